;; A no-op ABI v1 analyzer for benchmarks: it asks for whole packets, writes
;; "no opinion" for each (one memory.fill) and returns.
(module
  (memory (export "memory") 17)
  (func (export "wring_abi_version") (result i32) (i32.const 1))
  (func (export "wring_config_buffer") (param i32) (result i32) (i32.const 0x8000))
  (func (export "wring_init") (param i32 i32) (result i32)
    (i32.store (i32.const 0x400) (i32.const 1))
    (i32.store (i32.const 0x404) (i32.const 3))
    (i32.store (i32.const 0x40c) (i32.const 256))
    (i32.store (i32.const 0x410) (i32.const 0x10000))
    (i32.store (i32.const 0x414) (i32.const 0x80000))
    (i32.store (i32.const 0x418) (i32.const 0x2000))
    (i32.store (i32.const 0x41c) (i32.const 0x1000))
    (i32.const 0x400))
  (func (export "wring_process") (param $n i32) (result i32)
    (memory.fill (i32.const 0x2000) (i32.const 0) (i32.shl (local.get $n) (i32.const 3)))
    (i32.const 0)))
