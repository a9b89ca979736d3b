//go:build linux

package passive

import (
	"os"
	"testing"

	"github.com/cilium/ebpf/btf"

	"github.com/wringcap/wring/internal/corpus"
)

func featureBits() (map[string]*uint32, *[6]uint32) {
	var v [6]uint32
	return map[string]*uint32{"NETIF_F_HW_CSUM_BIT": &v[0], "NETIF_F_IP_CSUM_BIT": &v[1], "NETIF_F_IPV6_CSUM_BIT": &v[2],
		"NETIF_F_TSO_BIT": &v[3], "NETIF_F_TSO6_BIT": &v[4], "NETIF_F_GSO_UDP_L4_BIT": &v[5]}, &v
}

// TestScanBTFEnumsKernel: on the running kernel, the raw scan finds the
// feature bits cilium/ebpf's decoder finds.
func TestScanBTFEnumsKernel(t *testing.T) {
	raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
	if err != nil {
		corpus.Unavailable(t, "the kernel publishes no BTF: "+err.Error())
	}
	want, got := featureBits()
	if n, err := scanBTFEnums(raw, want); err != nil || n != len(want) {
		t.Fatalf("scan: %d of %d found, %v", n, len(want), err)
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	ref, refv := featureBits()
	if err := enumBitsFromSpec(spec, ref); err != nil {
		t.Fatal(err)
	}
	if *got != *refv {
		t.Errorf("scan %v, cilium/ebpf %v", *got, *refv)
	}
	t.Logf("NETIF_F_ HW_CSUM, IP_CSUM, IPV6_CSUM, TSO, TSO6, GSO_UDP_L4 bits: %v", *got)
}

// BenchmarkFeatureBits: what finding the bits costs a capture's start,
// from reading the kernel's BTF: the raw scan against cilium/ebpf's
// decoder (a fresh spec each time, as in a new process).
func BenchmarkFeatureBits(b *testing.B) {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		b.Skip("the kernel publishes no BTF")
	}
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			raw, err := os.ReadFile("/sys/kernel/btf/vmlinux")
			if err != nil {
				b.Fatal(err)
			}
			want, _ := featureBits()
			if n, err := scanBTFEnums(raw, want); err != nil || n != len(want) {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("cilium", func(b *testing.B) {
		for b.Loop() {
			spec, err := btf.LoadSpec("/sys/kernel/btf/vmlinux")
			if err != nil {
				b.Fatal(err)
			}
			want, _ := featureBits()
			if err := enumBitsFromSpec(spec, want); err != nil {
				b.Fatal(err)
			}
		}
	})
}
