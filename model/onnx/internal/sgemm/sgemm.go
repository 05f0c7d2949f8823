// Package sgemm multiplies float32 matrices for the dense ONNX plan: an
// activation matrix A (rows x K, row-major) by a weight matrix B (K x N)
// that is packed once, plus a bias row, with an optional fused ReLU.
//
// The work is done by a register-blocked micro-kernel of 6 rows by 16
// columns (AVX2 and FMA assembly on amd64, plain Go elsewhere) or 32 columns
// (AVX-512) over B packed into panels of as many columns, in blocks of K small enough for a panel to stay in L1 cache.
// Narrow products (N <= 4, the output layer of most tabular networks) are
// row-by-row dot products instead, so that they do not pay for 16 columns.
//
// The kernel reads and writes whole 6-row, 16- or 32-column tiles, so the caller
// pads its buffers: see RowPad, Stride and Product.Mul.
package sgemm

import "fmt"

const (
	// RowPad is the row tile: buffers given to Mul hold a multiple of
	// RowPad rows (padded rows are read and written, never reported).
	RowPad = 6
	// blockBytes bounds the part of a panel one pass reads: 16 KiB (256
	// rows of 16 columns, or 128 of 32), half a typical L1 data cache,
	// leaving room for A's rows.
	blockBytes = 16 << 10
	// blockRows is how many rows of A one pass over the panels reads: 96
	// rows of a 256-deep block are 96 KiB, which stay in L2 cache while
	// every panel goes by.
	blockRows = 16 * RowPad
	// narrowMax is the widest product computed as dot products.
	narrowMax = 4
)

// PadRows rounds rows up to a multiple of RowPad.
func PadRows(rows int) int { return (rows + RowPad - 1) / RowPad * RowPad }

// Product is a packed weight matrix B (K x N), safe for concurrent use.
type Product struct {
	k, n int
	// width is the column tile: 32 with AVX-512, else 16.
	width int
	// panels holds B in ceil(N/width) panels, each K rows of width
	// columns, zero-padded past N (wide products).
	panels []float32
	// rows holds B transposed, N rows of K (narrow products).
	rows []float32
}

// Pack packs b, which holds K x N values row-major, or N x K when
// transposed (as a Gemm with transB=1, the layout PyTorch exports),
// scaled by alpha.
func Pack(b []float32, k, n int, transposed bool, alpha float32) *Product {
	return pack(b, k, n, transposed, alpha, panelWidth)
}

func pack(b []float32, k, n int, transposed bool, alpha float32, width int) *Product {
	if len(b) != k*n {
		panic(fmt.Sprintf("sgemm: %d values for a %d x %d matrix", len(b), k, n))
	}
	at := func(i, j int) float32 { // B[i][j]
		if transposed {
			return b[j*k+i] * alpha
		}
		return b[i*n+j] * alpha
	}
	p := &Product{k: k, n: n, width: width}
	if n <= narrowMax {
		p.rows = make([]float32, n*k)
		for j := range n {
			for i := range k {
				p.rows[j*k+i] = at(i, j)
			}
		}
		return p
	}
	panels := (n + width - 1) / width
	p.panels = make([]float32, panels*k*width)
	for q := range panels {
		panel := p.panels[q*k*width:]
		for i := range k {
			for c := range width {
				if j := q*width + c; j < n {
					panel[i*width+c] = at(i, j)
				}
			}
		}
	}
	return p
}

// Unpack returns B, scaled by Pack's alpha, as K x N values row-major:
// the layout a GPU's GEMM takes.
func (p *Product) Unpack() []float32 {
	out := make([]float32, p.k*p.n)
	for i := range p.k {
		for j := range p.n {
			if p.rows != nil {
				out[i*p.n+j] = p.rows[j*p.k+i]
			} else {
				q, c := j/p.width, j%p.width
				out[i*p.n+j] = p.panels[(q*p.k+i)*p.width+c]
			}
		}
	}
	return out
}

// K is the number of rows of B, the width of A.
func (p *Product) K() int { return p.k }

// N is the number of columns of B, the width of C.
func (p *Product) N() int { return p.n }

// Stride is the smallest row stride of a C that Mul can write: N
// rounded up to the column tile for wide products, N for narrow ones.
func (p *Product) Stride() int {
	if p.n <= narrowMax {
		return p.n
	}
	return (p.n + p.width - 1) / p.width * p.width
}

// Mul writes A x B + bias to C for rows rows, then applies ReLU (max(x,
// 0), NaN kept) when relu is set. A has row stride lda >= K; C has row
// stride ldc >= Stride(); bias holds Stride() values (zero past N), or is
// nil for none. A and C must hold PadRows(rows) rows: the kernel computes
// whole row tiles, and in wide products whole column tiles, so C's padding
// rows and columns are overwritten with meaningless values.
func (p *Product) Mul(c []float32, ldc int, a []float32, lda, rows int, bias []float32, relu bool) {
	padded := PadRows(rows)
	if lda < p.k || ldc < p.Stride() || len(a) < (padded-1)*lda+p.k || len(c) < (padded-1)*ldc+p.Stride() || (bias != nil && len(bias) < p.Stride()) {
		panic(fmt.Sprintf("sgemm: Mul of %d rows by %d x %d with lda %d (%d values), ldc %d (%d values) and %d bias values", rows, p.k, p.n, lda, len(a), ldc, len(c), len(bias)))
	}
	if rows == 0 {
		return
	}
	if bias == nil {
		bias = make([]float32, p.Stride())
	}
	if p.rows != nil {
		p.narrow(c, ldc, a, lda, rows, bias, relu)
		return
	}
	blockK := blockBytes / 4 / p.width
	for k0 := 0; k0 < p.k; k0 += blockK {
		kc := min(blockK, p.k-k0)
		last := k0+kc == p.k
		for r0 := 0; r0 < rows; r0 += blockRows {
			for q := 0; q*p.width < p.n; q++ {
				panel := p.panels[(q*p.k+k0)*p.width:]
				// The first pass over K starts from the bias, the others
				// from what the earlier passes left in C.
				var init []float32
				if k0 == 0 {
					init = bias[q*p.width:]
				}
				for r := r0; r < min(r0+blockRows, rows); r += RowPad {
					kernel(p.width, kc, a[r*lda+k0:], lda, panel, c[r*ldc+q*p.width:], ldc, init, last && relu)
				}
			}
		}
	}
}

// narrow computes each output as dot products of the rows of A and a
// row of B transposed, a tile of 6 rows and two rows of B at a time.
func (p *Product) narrow(c []float32, ldc int, a []float32, lda, rows int, bias []float32, relu bool) {
	bias = bias[:p.n]
	for r := range PadRows(rows) {
		// A loop, not copy: memmove's call costs more than 1 to 4 values.
		row := c[r*ldc : r*ldc+p.n]
		//lint:ignore S1001 the loop is faster than copy's memmove call here
		for j, v := range bias {
			row[j] = v
		}
	}
	for j := 0; j < p.n; j += 2 {
		w := p.rows[j*p.k : min(j+2, p.n)*p.k]
		for r := 0; r < rows; r += RowPad {
			dotTile(a[r*lda:], lda, w, p.k, c[r*ldc+j:], ldc)
		}
	}
	if !relu {
		return
	}
	for r := range rows {
		for j, v := range c[r*ldc : r*ldc+p.n] {
			if v < 0 {
				c[r*ldc+j] = 0
			}
		}
	}
}

// dotTileGo is the portable dotTile.
func dotTileGo(a []float32, lda int, w []float32, k int, out []float32, ldo int) {
	for j := range len(w) / k {
		for r := range RowPad {
			out[r*ldo+j] += dotGo(a[r*lda:r*lda+k], w[j*k:(j+1)*k])
		}
	}
}

// kernelGo is the portable micro-kernel: C[6 x width] = S + A[6 x k] x
// panel, then ReLU when relu, where S is init's row in every row, or C
// itself when init is nil.
func kernelGo(width, k int, a []float32, lda int, panel []float32, c []float32, ldc int, init []float32, relu bool) {
	var acc [RowPad][32]float32
	for r := range RowPad {
		if init != nil {
			copy(acc[r][:width], init[:width])
		} else {
			copy(acc[r][:width], c[r*ldc:r*ldc+width])
		}
	}
	for i := range k {
		b := panel[i*width : (i+1)*width]
		for r := range RowPad {
			x := a[r*lda+i]
			row := acc[r][:width]
			for j, w := range b {
				row[j] += x * w
			}
		}
	}
	for r := range RowPad {
		if relu {
			for j, v := range acc[r][:width] {
				if v < 0 {
					acc[r][j] = 0
				}
			}
		}
		copy(c[r*ldc:r*ldc+width], acc[r][:width])
	}
}

// dotGo is the portable dot product.
func dotGo(x, y []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
