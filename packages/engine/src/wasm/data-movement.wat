;; Data movement for the wasm training kernels, in WebAssembly text. It runs on the
;; memory of tfjs-backend-wasm itself (imported as env.memory), so it reads and writes
;; tensors in place: tfjs's own Transpose computes a source index per element and runs 3
;; to 20 times slower than these loops. Addresses are byte offsets; strides count floats.
;; The compiled bytes live in data-movement-binary.ts, which a test keeps in step with
;; this file (`pnpm vitest run -u` in packages/engine regenerates it).
(module
  (import "env" "memory" (memory 1))

  ;; out[b, j, i] = in[b, i, j] for b < batch, i < rows, j < cols, where
  ;; in[b, i, j] is at in + 4 * (b * inBatch + i * inRow + j) and
  ;; out[b, j, i] is at out + 4 * (b * outBatch + j * outCol + i).
  ;; 4x4 blocks go through registers (four loads, eight shuffles, four stores), so
  ;; both sides touch whole 16-byte vectors; ragged edges go element by element.
  (func (export "transpose")
    (param $in i32) (param $out i32) (param $batch i32) (param $rows i32) (param $cols i32)
    (param $inBatch i32) (param $inRow i32) (param $outBatch i32) (param $outCol i32)
    (local $b i32) (local $i i32) (local $j i32) (local $rows4 i32) (local $cols4 i32)
    (local $src i32) (local $dst i32) (local $inRowB i32) (local $outColB i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $rows4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $cols4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $inRowB (i32.shl (local.get $inRow) (i32.const 2)))
    (local.set $outColB (i32.shl (local.get $outCol) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $batchDone (loop $batchLoop
      (br_if $batchDone (i32.ge_u (local.get $b) (local.get $batch)))
      ;; 4x4 blocks
      (local.set $i (i32.const 0))
      (block $rowsDone (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $rows4)))
        (local.set $j (i32.const 0))
        (block $colsDone (loop $colLoop
          (br_if $colsDone (i32.ge_u (local.get $j) (local.get $cols4)))
          (local.set $src (i32.add (local.get $in) (i32.shl
            (i32.add (i32.add (i32.mul (local.get $b) (local.get $inBatch)) (i32.mul (local.get $i) (local.get $inRow))) (local.get $j))
            (i32.const 2))))
          (local.set $r0 (v128.load (local.get $src)))
          (local.set $r1 (v128.load (i32.add (local.get $src) (local.get $inRowB))))
          (local.set $r2 (v128.load (i32.add (local.get $src) (i32.shl (local.get $inRowB) (i32.const 1)))))
          (local.set $r3 (v128.load (i32.add (local.get $src) (i32.mul (local.get $inRowB) (i32.const 3)))))
          (local.set $a0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
          (local.set $a1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
          (local.set $a2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
          (local.set $a3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
          (local.set $dst (i32.add (local.get $out) (i32.shl
            (i32.add (i32.add (i32.mul (local.get $b) (local.get $outBatch)) (i32.mul (local.get $j) (local.get $outCol))) (local.get $i))
            (i32.const 2))))
          (v128.store (local.get $dst)
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a2)))
          (v128.store (i32.add (local.get $dst) (local.get $outColB))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a2)))
          (v128.store (i32.add (local.get $dst) (i32.shl (local.get $outColB) (i32.const 1)))
            (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a1) (local.get $a3)))
          (v128.store (i32.add (local.get $dst) (i32.mul (local.get $outColB) (i32.const 3)))
            (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a1) (local.get $a3)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $colLoop)))
        ;; leftover columns of these 4 rows
        (call $scalar (local.get $in) (local.get $out) (local.get $b) (local.get $i) (i32.add (local.get $i) (i32.const 4))
          (local.get $cols4) (local.get $cols) (local.get $inBatch) (local.get $inRow) (local.get $outBatch) (local.get $outCol))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rowLoop)))
      ;; leftover rows, all columns
      (call $scalar (local.get $in) (local.get $out) (local.get $b) (local.get $rows4) (local.get $rows)
        (i32.const 0) (local.get $cols) (local.get $inBatch) (local.get $inRow) (local.get $outBatch) (local.get $outCol))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $batchLoop))))

  (func $scalar
    (param $in i32) (param $out i32) (param $b i32) (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32)
    (param $inBatch i32) (param $inRow i32) (param $outBatch i32) (param $outCol i32)
    (local $i i32) (local $j i32)
    (local.set $i (local.get $i0))
    (block $iDone (loop $iLoop
      (br_if $iDone (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $j (local.get $j0))
      (block $jDone (loop $jLoop
        (br_if $jDone (i32.ge_u (local.get $j) (local.get $j1)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (i32.add (i32.add (i32.mul (local.get $b) (local.get $outBatch)) (i32.mul (local.get $j) (local.get $outCol))) (local.get $i)) (i32.const 2)))
          (f32.load
            (i32.add (local.get $in) (i32.shl (i32.add (i32.add (i32.mul (local.get $b) (local.get $inBatch)) (i32.mul (local.get $i) (local.get $inRow))) (local.get $j)) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jLoop)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $iLoop))))

  ;; Copies rows of `length` floats: out + 4 * (b * outBatch + i * outRow) <- in + 4 * (b * inBatch + i * inRow).
  ;; Short rows whose length is a multiple of 4 (a few channels) move as 16-byte vectors,
  ;; which costs less than a memory.copy call per row; long rows use memory.copy.
  (func (export "copyRows")
    (param $in i32) (param $out i32) (param $batch i32) (param $rows i32) (param $length i32)
    (param $inBatch i32) (param $inRow i32) (param $outBatch i32) (param $outRow i32)
    (local $b i32) (local $i i32) (local $bytes i32) (local $vectors i32) (local $k i32)
    (local $src i32) (local $dst i32)
    (local.set $bytes (i32.shl (local.get $length) (i32.const 2)))
    (local.set $vectors (i32.and
      (i32.eqz (i32.and (local.get $length) (i32.const 3)))
      (i32.le_u (local.get $length) (i32.const 64))))
    (local.set $b (i32.const 0))
    (block $bDone (loop $bLoop
      (br_if $bDone (i32.ge_u (local.get $b) (local.get $batch)))
      (local.set $i (i32.const 0))
      (block $iDone (loop $iLoop
        (br_if $iDone (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $dst (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $b) (local.get $outBatch)) (i32.mul (local.get $i) (local.get $outRow))) (i32.const 2))))
        (local.set $src (i32.add (local.get $in) (i32.shl (i32.add (i32.mul (local.get $b) (local.get $inBatch)) (i32.mul (local.get $i) (local.get $inRow))) (i32.const 2))))
        (if (local.get $vectors)
          (then
            (local.set $k (i32.const 0))
            (block $kDone (loop $kLoop
              (br_if $kDone (i32.ge_u (local.get $k) (local.get $bytes)))
              (v128.store (i32.add (local.get $dst) (local.get $k)) (v128.load (i32.add (local.get $src) (local.get $k))))
              (local.set $k (i32.add (local.get $k) (i32.const 16)))
              (br $kLoop))))
          (else
            (memory.copy (local.get $dst) (local.get $src) (local.get $bytes))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $iLoop)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bLoop))))
)
