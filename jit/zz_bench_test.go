package jit
import ("testing";"runtime";"github.com/wringcap/wring/verifier";"github.com/wringcap/wring/spec")
func BenchmarkZZ(b *testing.B){ p:=mustVerify(b,spec.Program{spec.Stmt(spec.ClassRET|spec.RetK,1)},verifier.Options{}); pkt:=fullPackets()[0]
 n,_:=Compile(p,Options{}); var s uint32
 b.Run("ret1",func(b *testing.B){runtime.LockOSThread(); c0:=threadCPU(); for b.Loop(){s+=n.Run(pkt,60)}; b.ReportMetric(float64(threadCPU()-c0)/float64(b.N),"ns/pkt")})
 b.Run("enter",func(b *testing.B){runtime.LockOSThread(); m:=&zeroMeta; c0:=threadCPU(); for b.Loop(){s+=enter(n.code, &pkt[0], 60, 60, m)}; b.ReportMetric(float64(threadCPU()-c0)/float64(b.N),"ns/pkt")})
 benchSink=s}
