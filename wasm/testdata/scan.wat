;; A byte-scanning loop for the fuel benchmark: scan(n) sums n bytes from
;; address 0x10000 and counts those equal to 'G'.
(module
  (memory (export "memory") 2)
  (func (export "scan") (param $n i32) (result i32)
    (local $i i32) (local $sum i32) (local $g i32) (local $c i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $c (i32.load8_u offset=0x10000 (local.get $i)))
        (local.set $sum (i32.add (local.get $sum) (local.get $c)))
        (local.set $g (i32.add (local.get $g) (i32.eq (local.get $c) (i32.const 0x47))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (local.get $sum) (local.get $g))))
