;; A complete ABI v1 analyzer in WebAssembly text, used by the host's tests
;; and as the template of the hostile modules (the {{...}} markers are
;; replaced by the tests; the defaults make a well-behaved analyzer).
;;
;; It counts packets and wire bytes, matches destination port 80 (tag 80, an
;; event "hit" with the port), forwards destination port 53 to its sink
;; "mirror" and drops destination port 9.
;;
;; Memory layout: 0x400 Info block, 0x500 counter names, 0x600 sink names,
;; 0x1000 counters, 0x2000 verdicts, 0x3000 event area (16 KiB), 0x8000
;; configuration, 0x10000 batch area (512 KiB).
(module
  {{IMPORTS}}
  (memory (export "memory") 17)
  (data (i32.const 0x500) "packets\00bytes\00http\00")
  (data (i32.const 0x600) "mirror\00")

  (func (export "wring_abi_version") (result i32) {{VERSION}})

  (func (export "wring_config_buffer") (param $n i32) (result i32)
    (if (i32.gt_u (local.get $n) (i32.const 1024)) (then (return (i32.const 0))))
    (i32.const 0x8000))

  (func (export "wring_init") (param $cfg i32) (param $len i32) (result i32)
    ;; configuration "fail" makes init fail
    (if (i32.and (i32.eq (local.get $len) (i32.const 4))
                 (i32.eq (i32.load (local.get $cfg)) (i32.const 0x6c696166)))
      (then (return (i32.const 0))))
    (i32.store (i32.const 0x400) (i32.const 1))       ;; version
    (i32.store (i32.const 0x404) (i32.const 3))       ;; need: whole packet
    (i32.store (i32.const 0x408) (i32.const 0))       ;; payload max
    (i32.store (i32.const 0x40c) (i32.const 256))     ;; max packets
    (i32.store (i32.const 0x410) (i32.const 0x10000)) ;; batch area
    (i32.store (i32.const 0x414) (i32.const 0x80000))
    (i32.store (i32.const 0x418) (i32.const 0x2000))  ;; verdicts
    (i32.store (i32.const 0x41c) (i32.const 0x1000))  ;; counters
    (i32.store (i32.const 0x420) (i32.const 3))
    (i32.store (i32.const 0x424) (i32.const 0x500))   ;; counter names
    (i32.store (i32.const 0x428) (i32.const 19))
    (i32.store (i32.const 0x42c) (i32.const 0x3000))  ;; events
    (i32.store (i32.const 0x430) (i32.const 0x4000))
    (i32.store (i32.const 0x434) (i32.const 0x600))   ;; sink names
    (i32.store (i32.const 0x438) (i32.const 7))
    (i32.store (i32.const 0x43c) (i32.const 0))       ;; flags
    {{INIT}}
    (i32.const 0x400))

  ;; event appends a "hit" event with a "port" field for packet $pkt.
  (func $event (param $pkt i32) (param $port i32)
    (local $p i32)
    (if (i32.gt_u (i32.add (i32.load (i32.const 0x3000)) (i32.const 26)) (i32.const 0x3ff8))
      (then
        (i32.store (i32.const 0x3004) (i32.add (i32.load (i32.const 0x3004)) (i32.const 1)))
        (return)))
    (local.set $p (i32.add (i32.const 0x3008) (i32.load (i32.const 0x3000))))
    (i32.store16 (local.get $p) (i32.const 26))
    (i32.store16 offset=2 (local.get $p) (i32.const 1))
    (i32.store offset=4 (local.get $p) (local.get $pkt))
    (i32.store8 offset=8 (local.get $p) (i32.const 3))
    (i32.store8 offset=9 (local.get $p) (i32.const 0x68))  ;; h
    (i32.store8 offset=10 (local.get $p) (i32.const 0x69)) ;; i
    (i32.store8 offset=11 (local.get $p) (i32.const 0x74)) ;; t
    (i32.store8 offset=12 (local.get $p) (i32.const 2))    ;; uint
    (i32.store8 offset=13 (local.get $p) (i32.const 4))
    (i32.store offset=14 (local.get $p) (i32.const 0x74726f70)) ;; port
    (i64.store offset=18 (local.get $p) (i64.extend_i32_u (local.get $port)))
    (i32.store (i32.const 0x3000) (i32.add (i32.load (i32.const 0x3000)) (i32.const 26))))

  (func $process (export "wring_process") (param $n i32) (result i32)
    (local $i i32) (local $d i32) (local $port i32) (local $v i32)
    {{PROCESS}}
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $d (i32.add (i32.const 0x10020) (i32.mul (local.get $i) (i32.const 104))))
        (i64.store (i32.const 0x1000) (i64.add (i64.load (i32.const 0x1000)) (i64.const 1)))
        (i64.store (i32.const 0x1008)
          (i64.add (i64.load (i32.const 0x1008)) (i64.extend_i32_u (i32.load offset=12 (local.get $d)))))
        (local.set $port (i32.load16_u offset=44 (local.get $d)))
        (local.set $v (i32.add (i32.const 0x2000) (i32.shl (local.get $i) (i32.const 3))))
        (i64.store (local.get $v) (i64.const 0))
        (if (i32.eq (local.get $port) (i32.const 80))
          (then
            (i32.store8 (local.get $v) (i32.const 1))
            (i32.store offset=4 (local.get $v) (i32.const 80))
            (i64.store (i32.const 0x1010) (i64.add (i64.load (i32.const 0x1010)) (i64.const 1)))
            (call $event (local.get $i) (local.get $port))))
        (if (i32.eq (local.get $port) (i32.const 53))
          (then (i32.store8 (local.get $v) (i32.const 2))))
        (if (i32.eq (local.get $port) (i32.const 9))
          (then (i32.store8 (local.get $v) (i32.const 3))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    {{AFTER}}
    (i32.const 0))
  {{EXTRA}}
)
