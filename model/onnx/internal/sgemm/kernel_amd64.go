package sgemm

//go:generate go run gen_kernels.go

import "golang.org/x/sys/cpu"

// useAVX2 says the assembly kernels can run: they need AVX2 and FMA (and
// the OS saving YMM registers, which cpu.X86.HasAVX includes).
var useAVX2 = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// useAVX512 says the 32-column kernel can run.
var useAVX512 = useAVX2 && cpu.X86.HasAVX512F

// panelWidth is the column tile of the kernel this CPU runs.
var panelWidth = func() int {
	if useAVX512 {
		return 32
	}
	return 16
}()

// kernel6x16 is the assembly micro-kernel: C[6 x 16] = S + A[6 x k] x B
// panel (k rows of 16), then ReLU when relu != 0, where S is init's row in
// every row, or C itself when init is nil. lda and ldc count float32s.
//
//go:noescape
func kernel6x16(k int, a *float32, lda int, b *float32, c *float32, ldc int, init *float32, relu int)

// kernel6x32 is kernel6x16 over 32 columns, with AVX-512.
//
//go:noescape
func kernel6x32(k int, a *float32, lda int, b *float32, c *float32, ldc int, init *float32, relu int)

// dots6x1 is the assembly kernel of narrow products: out[r*ldo] += A row
// r . w for the 6 rows of a tile, over k columns; tail masks the last k%8
// (see tailMask).
//
//go:noescape
func dots6x1(k int, a *float32, lda int, w *float32, out *float32, ldo int, tail *int32)

// dots6x2 is dots6x1 for two rows of weights, w and w[k:], into out[r*ldo]
// and out[r*ldo+1]: each block of A is loaded once for both.
//
//go:noescape
func dots6x2(k int, a *float32, lda int, w *float32, out *float32, ldo int, tail *int32)

// tailMasks holds 8 all-ones lanes then 8 zeros: the 8 lanes from
// tailMasks[8-t] mask the first t of a block.
var tailMasks = [16]int32{-1, -1, -1, -1, -1, -1, -1, -1}

// tailMask is the mask of the last k%8 columns, or nil when k is a
// multiple of 8.
func tailMask(k int) *int32 {
	if t := k % 8; t != 0 {
		return &tailMasks[8-t]
	}
	return nil
}

// dotTile adds A row r . w row j to out[r*ldo+j] for the 6 rows of a tile,
// where w holds one or two rows of k values.
func dotTile(a []float32, lda int, w []float32, k int, out []float32, ldo int) {
	if !useAVX2 {
		dotTileGo(a, lda, w, k, out, ldo)
		return
	}
	// The bounds the assembly relies on, checked once per tile.
	_ = a[(RowPad-1)*lda+k-1]
	_ = out[(RowPad-1)*ldo+len(w)/k-1]
	_ = w[k-1]
	if len(w) == 2*k {
		dots6x2(k, &a[0], lda, &w[0], &out[0], ldo, tailMask(k))
		return
	}
	dots6x1(k, &a[0], lda, &w[0], &out[0], ldo, tailMask(k))
}

func kernel(width, k int, a []float32, lda int, panel []float32, c []float32, ldc int, init []float32, relu bool) {
	asm := kernel6x16
	switch {
	case width == 32 && useAVX512:
		asm = kernel6x32
	case width != 16 || !useAVX2:
		kernelGo(width, k, a, lda, panel, c, ldc, init, relu)
		return
	}
	// The bounds the assembly relies on, checked once per tile.
	_ = a[(RowPad-1)*lda+k-1]
	_ = panel[k*width-1]
	_ = c[(RowPad-1)*ldc+width-1]
	var from *float32
	if init != nil {
		from = &init[:width][0]
	}
	flag := 0
	if relu {
		flag = 1
	}
	asm(k, &a[0], lda, &panel[0], &c[0], ldc, from, flag)
}

// Kernel names the micro-kernel this CPU runs: "AVX-512 6x32",
// "AVX2+FMA 6x16", or "Go" where neither is available.
func Kernel() string {
	switch {
	case useAVX512:
		return "AVX-512 6x32"
	case useAVX2:
		return "AVX2+FMA 6x16"
	}
	return "Go"
}
