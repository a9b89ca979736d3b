package guest

import "unsafe"

// The buffers the Info block points to; allocated once by wring_init. Go's
// heap does not move objects, so their addresses stay valid.
var (
	info      [infoSizeV2]byte
	cfgBuf    []byte
	batch     []byte
	verdicts  []byte
	sinkNames []byte
	pkt       Packet
	verdict   Verdict // global so that passing it to the analyzer does not allocate
)

func ptr(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

func configBuffer(n int32) int32 {
	if n < 0 || n > 1<<20 {
		return 0
	}
	cfgBuf = make([]byte, n+1)
	return int32(ptr(cfgBuf))
}

func initialize(p, n int32) int32 {
	if registered == nil {
		return 0
	}
	var cfg Config
	if n > 0 && int(n) < len(cfgBuf) && ptr(cfgBuf) == uint32(p) {
		cfg = Config(cfgBuf[:n])
	}
	if err := registered.Init(cfg); err != nil {
		return 0
	}
	o := options
	if o.MaxPackets <= 0 {
		o.MaxPackets = 256
	}
	if o.BatchBytes <= 0 {
		per := 1600
		switch o.Need {
		case NeedRecord:
			per = 0
		case NeedHeaders:
			per = 128
		case NeedPayload:
			per = 128 + int(o.PayloadMax)
		}
		o.BatchBytes = batchHeaderSize + o.MaxPackets*(desc(o)+per)
	}
	if o.EventBytes <= 0 {
		o.EventBytes = 64 << 10
	}
	if o.StreamsOnly {
		o.Need, o.PayloadMax, o.MaxPackets, o.BatchBytes = 0, 0, 0, 0
	}
	batch = make([]byte, o.BatchBytes)
	verdicts = make([]byte, o.MaxPackets*verdictSize)
	events = make([]byte, o.EventBytes)
	sinkNames = sinkNames[:0]
	for _, s := range o.Sinks {
		sinkNames = append(append(sinkNames, s...), 0)
	}
	var flags uint32
	if _, ok := registered.(Ticker); ok {
		flags |= infoFlagTick
	}
	stride = descSize
	if o.Tunnels && !o.StreamsOnly {
		flags |= infoFlagTunnels
		stride = descSizeTunnel
	}
	clear(info[infoSize:])
	if _, ok := registered.(StreamAnalyzer); ok && (o.Streams || o.StreamsOnly) {
		flags |= infoFlagStreams
		if o.StreamsOnly {
			flags |= infoStreamsOnly
		}
		if o.StreamBytes <= 0 {
			o.StreamBytes = 256 << 10
		}
		o.StreamBytes = min(max(o.StreamBytes, streamAreaMin), streamAreaMax)
		if len(o.StreamPorts) > maxStreamPorts {
			return 0
		}
		streamArea = make([]byte, o.StreamBytes) // 8-byte aligned: Go's allocator aligns blocks this large
		put32(info[64:], ptr(streamArea))
		put32(info[68:], uint32(len(streamArea)))
		put32(info[72:], uint32(len(o.StreamPorts)))
		for i, p := range o.StreamPorts {
			put16(info[76+2*i:], p)
		}
		if o.StreamChunks <= 0 {
			o.StreamChunks = 256
		}
		put32(info[108:], uint32(min(o.StreamChunks, 1<<16)))
	}
	for i, v := range []uint32{
		abiVersion, uint32(o.Need), o.PayloadMax, uint32(o.MaxPackets),
		ptr(batch), uint32(len(batch)), ptr(verdicts),
		uint32(uintptr(unsafe.Pointer(&counters[0]))), uint32(nCounters), ptr(counterNames), uint32(len(counterNames)),
		ptr(events), uint32(len(events)), ptr(sinkNames), uint32(len(sinkNames)), flags,
	} {
		put32(info[i*4:], v)
	}
	return int32(uintptr(unsafe.Pointer(&info[0])))
}

// stride is the size of a packet descriptor: descSize, or descSizeTunnel
// with Options.Tunnels.
var stride = descSize

// desc is the descriptor size the options ask for.
func desc(o Options) int {
	if o.Tunnels {
		return descSizeTunnel
	}
	return descSize
}

func process(n int32) int32 {
	if int(n) > len(verdicts)/verdictSize {
		return 1
	}
	a := registered
	for i := 0; i < int(n); i++ {
		d := batch[batchHeaderSize+i*stride:]
		off, l := le32(d[recordSize:]), le32(d[recordSize+4:])
		pkt.rec = d[:recordSize:recordSize]
		pkt.tun = nil
		if stride == descSizeTunnel {
			pkt.tun = d[descSize:descSizeTunnel:descSizeTunnel]
		}
		if uint64(off)+uint64(l) > uint64(len(batch)) {
			return 2
		}
		pkt.data = batch[off : off+l : off+l]
		pkt.index = uint32(i)
		verdict = Verdict{}
		a.Packet(&pkt, &verdict)
		o := verdicts[i*verdictSize:]
		o[0], o[1] = verdict.action, 0
		put16(o[2:], verdict.sink)
		put32(o[4:], verdict.tag)
	}
	return 0
}

func tick(now int64, final int32) int32 {
	tickMore = false
	if t, ok := registered.(Ticker); ok {
		t.Tick(now, final != 0)
	}
	if tickMore {
		return 1
	}
	return 0
}
