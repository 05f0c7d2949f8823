//go:build ignore

// gen_kernels writes kernel_amd64.s: the 6-row GEMM micro-kernels for
// AVX2 (16 columns in two YMM registers per row) and AVX-512 (32 columns in
// two ZMM registers), which differ only in register names and widths, and
// the dot-product tile of narrow products. Run it with go generate.
package main

import (
	"fmt"
	"os"
	"strings"
)

const rows = 6

// rowAddr addresses element k of A's row r: rows 0-2 from R8, rows 3-5
// from R9 = R8 + 3*lda, with R10 = lda and R13 = 2*lda (in bytes).
var rowAddr = [rows]string{"(R8)", "(R8)(R10*1)", "(R8)(R13*1)", "(R9)", "(R9)(R10*1)", "(R9)(R13*1)"}

type asm struct{ strings.Builder }

func (a *asm) op(format string, args ...any) { fmt.Fprintf(a, "\t"+format+"\n", args...) }
func (a *asm) line(s string)                 { a.WriteString(s + "\n") }

// prologue loads the arguments both kinds of kernel take, named weights,
// out and stride in the second.
func (a *asm) prologue(weights, out, stride string) {
	a.op("MOVQ k+0(FP), CX")
	a.op("MOVQ a+8(FP), R8")
	a.op("MOVQ lda+16(FP), R10")
	a.op("SHLQ $2, R10")
	a.op("MOVQ %s+24(FP), DX", weights)
	a.op("MOVQ %s+32(FP), DI", out)
	a.op("MOVQ %s+40(FP), R11", stride)
	a.op("SHLQ $2, R11")
	a.op("LEAQ (R10)(R10*2), R12")
	a.op("LEAQ (R8)(R12*1), R9")
	a.op("LEAQ (R10)(R10*1), R13")
}

// gemm writes the micro-kernel over width columns held in register file
// reg (Y: 8 float32s, Z: 16).
func (a *asm) gemm(name, reg string, width int, doc string) {
	vec := width / 2 * 4 // bytes per register
	a.line(fmt.Sprintf("// func %s(k int, a *float32, lda int, b *float32, c *float32, ldc int, init *float32, relu int)", name))
	a.line("//")
	a.line(doc)
	a.line(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-64", name))
	a.prologue("b", "c", "ldc")
	a.line("")
	a.op("MOVQ init+48(FP), AX")
	a.op("TESTQ AX, AX")
	a.op("JZ loadc")
	a.op("VMOVUPS (AX), %s0", reg)
	a.op("VMOVUPS %d(AX), %s1", vec, reg)
	for r := 1; r < rows; r++ {
		a.op("VMOVAPS %s0, %s%d", reg, reg, 2*r)
		a.op("VMOVAPS %s1, %s%d", reg, reg, 2*r+1)
	}
	a.op("JMP ready")
	a.line("")
	a.line("loadc:")
	a.op("MOVQ DI, SI")
	for r := range rows {
		a.op("VMOVUPS (SI), %s%d", reg, 2*r)
		a.op("VMOVUPS %d(SI), %s%d", vec, reg, 2*r+1)
		if r < rows-1 {
			a.op("ADDQ R11, SI")
		}
	}
	a.line("")
	a.line("ready:")
	a.op("TESTQ CX, CX")
	a.op("JZ done")
	a.line("")
	a.line("loop:")
	a.op("VMOVUPS (DX), %s12", reg)
	a.op("VMOVUPS %d(DX), %s13", vec, reg)
	for r := range rows {
		a.op("VBROADCASTSS %s, %s14", rowAddr[r], reg)
		a.op("VFMADD231PS %s12, %s14, %s%d", reg, reg, reg, 2*r)
		a.op("VFMADD231PS %s13, %s14, %s%d", reg, reg, reg, 2*r+1)
	}
	a.op("ADDQ $%d, DX", 2*vec)
	a.op("ADDQ $4, R8")
	a.op("ADDQ $4, R9")
	a.op("DECQ CX")
	a.op("JNZ loop")
	a.line("")
	a.line("done:")
	a.op("MOVQ relu+56(FP), AX")
	a.op("TESTQ AX, AX")
	a.op("JZ store")
	a.op("// max(0, x) with x second, so that a NaN is kept, as max(x, 0) does.")
	if reg == "Z" {
		a.op("VPXORD Z15, Z15, Z15")
	} else {
		a.op("VXORPS Y15, Y15, Y15")
	}
	for i := range 2 * rows {
		a.op("VMAXPS %s%d, %s15, %s%d", reg, i, reg, reg, i)
	}
	a.line("")
	a.line("store:")
	for r := range rows {
		a.op("VMOVUPS %s%d, (DI)", reg, 2*r)
		a.op("VMOVUPS %s%d, %d(DI)", reg, 2*r+1, vec)
		if r < rows-1 {
			a.op("ADDQ R11, DI")
		}
	}
	a.op("VZEROUPPER")
	a.op("RET")
	a.line("")
}

// dots writes the dot-product tile of n (1 or 2) rows of weights:
// out[r*ldo+j] += A row r . w row j, over any k. Whole blocks of 8 columns
// are read with plain loads, the last k%8 columns with masked loads, which
// read nothing past the row.
func (a *asm) dots(n int) {
	name := fmt.Sprintf("dots6x%d", n)
	acc := func(r, j int) int { return r*n + j }
	w := func(j int) int { return rows*n + j } // 8 weights of row j
	x := rows*n + n                            // 8 values of a row of A
	a.line(fmt.Sprintf("// func %s(k int, a *float32, lda int, w *float32, out *float32, ldo int, tail *int32)", name))
	a.line("//")
	a.line(fmt.Sprintf("// out[r*ldo+j] += dot(A row r, w row j) for the 6 rows of a tile and j < %d,", n))
	a.line("// over k columns; the rows of w are k values each, one after the other.")
	a.line(fmt.Sprintf("// Y0..Y%d accumulate (row r, weight row j) in Y(%d*r+j); Y%d.. hold 8", rows*n-1, n, w(0)))
	a.line("// weights of each row, loaded once for all six rows. tail is nil when k")
	a.line("// is a multiple of 8, else it points at k%8 all-ones lanes then zeros:")
	a.line("// Y15 holds it as the mask of the last block's loads.")
	a.line(fmt.Sprintf("TEXT ·%s(SB), NOSPLIT, $0-56", name))
	a.prologue("w", "out", "ldo")
	a.op("MOVQ tail+48(FP), AX")
	weights := []string{"DX"}
	if n == 2 {
		a.op("LEAQ (DX)(CX*4), BX")
		weights = append(weights, "BX")
	}
	for i := range rows * n {
		a.op("VXORPS Y%d, Y%d, Y%d", i, i, i)
	}
	a.op("SHRQ $3, CX")
	a.op("JZ tail")
	a.line("")
	a.line("loop:")
	for j, p := range weights {
		a.op("VMOVUPS (%s), Y%d", p, w(j))
	}
	for r := range rows {
		if n == 1 {
			a.op("VFMADD231PS %s, Y%d, Y%d", rowAddr[r], w(0), acc(r, 0))
			continue
		}
		a.op("VMOVUPS %s, Y%d", rowAddr[r], x)
		for j := range n {
			a.op("VFMADD231PS Y%d, Y%d, Y%d", x, w(j), acc(r, j))
		}
	}
	for _, p := range append(weights, "R8", "R9") {
		a.op("ADDQ $32, %s", p)
	}
	a.op("DECQ CX")
	a.op("JNZ loop")
	a.line("")
	a.line("tail:")
	a.op("TESTQ AX, AX")
	a.op("JZ reduce")
	a.op("VMOVUPS (AX), Y15")
	for j, p := range weights {
		a.op("VMASKMOVPS (%s), Y15, Y%d", p, w(j))
	}
	for r := range rows {
		a.op("VMASKMOVPS %s, Y15, Y%d", rowAddr[r], x)
		for j := range n {
			a.op("VFMADD231PS Y%d, Y%d, Y%d", x, w(j), acc(r, j))
		}
	}
	a.line("")
	a.line("reduce:")
	for r := range rows {
		s := acc(r, 0)
		if n == 2 {
			// [a01 a23 b01 b23 | a45 a67 b45 b67], then the halves added,
			// then [a b a b]: the two sums in the low lanes.
			a.op("VHADDPS Y%d, Y%d, Y%d", acc(r, 1), s, s)
			a.op("VEXTRACTF128 $1, Y%d, X15", s)
			a.op("VADDPS X15, X%d, X%d", s, s)
			a.op("VHADDPS X%d, X%d, X%d", s, s, s)
			a.op("VMOVSD (DI), X15")
			a.op("VADDPS X15, X%d, X%d", s, s)
			a.op("VMOVSD X%d, (DI)", s)
		} else {
			a.op("VEXTRACTF128 $1, Y%d, X15", s)
			a.op("VADDPS X15, X%d, X%d", s, s)
			a.op("VHADDPS X%d, X%d, X%d", s, s, s)
			a.op("VHADDPS X%d, X%d, X%d", s, s, s)
			a.op("VADDSS (DI), X%d, X%d", s, s)
			a.op("VMOVSS X%d, (DI)", s)
		}
		if r < rows-1 {
			a.op("ADDQ R11, DI")
		}
	}
	a.op("VZEROUPPER")
	a.op("RET")
	a.line("")
}

func main() {
	var a asm
	a.line("// Code generated by gen_kernels.go; DO NOT EDIT.")
	a.line("")
	a.line(`#include "textflag.h"`)
	a.line("")
	a.gemm("kernel6x16", "Y", 16, `// Y0..Y11 accumulate the 6 x 16 tile of C (row r in Y(2r), Y(2r+1)),
// starting from init's 16 values in every row, or from C when init is nil;
// per step of k, Y12 and Y13 hold a row of the B panel and Y14 one element
// of A broadcast.`)
	a.gemm("kernel6x32", "Z", 32, `// kernel6x16 with AVX-512: Z0..Z11 accumulate the 6 x 32 tile of C.`)
	a.dots(1)
	a.dots(2)
	if err := os.WriteFile("kernel_amd64.s", []byte(a.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
