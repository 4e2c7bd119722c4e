#include "textflag.h"

// The Go assembler has no mnemonics for a few ASIMD instructions used
// here; they are emitted as WORDs with the register numbers fixed:
//
//	SXTL  V(d).8H, V(n).8B  = SSHLL  #0: 0x0F08A400 | n<<5 | d
//	SXTL2 V(d).8H, V(n).16B = SSHLL2 #0: 0x4F08A400 | n<<5 | d
//	SXTL  V(d).4S, V(n).4H  = SSHLL  #0: 0x0F10A400 | n<<5 | d
//	SXTL2 V(d).4S, V(n).8H  = SSHLL2 #0: 0x4F10A400 | n<<5 | d
//	SCVTF V(d).4S, V(n).4S:              0x4E21D800 | n<<5 | d
//	FADD  V(d).4S, V(n).4S, V(m).4S:     0x4E20D400 | m<<16 | n<<5 | d
//	FADDP V(d).4S, V(n).4S, V(m).4S:     0x6E20D400 | m<<16 | n<<5 | d
//	FADDP S(d), V(n).2S:                 0x7E30D800 | n<<5 | d

// reduce sums the four accumulators V0-V3 into S0.
#define REDUCE \
	WORD $0x4E21D400 \ // FADD  V0.4S, V0.4S, V1.4S
	WORD $0x4E23D442 \ // FADD  V2.4S, V2.4S, V3.4S
	WORD $0x4E22D400 \ // FADD  V0.4S, V0.4S, V2.4S
	WORD $0x6E20D400 \ // FADDP V0.4S, V0.4S, V0.4S
	WORD $0x7E30D800   // FADDP S0, V0.2S

// func dotAsm(a, b *float32, n int) float32
// n is a positive multiple of 8. Four 4-wide accumulators hide the FMLA
// latency; the main loop takes 16 floats of each input per step.
TEXT ·dotAsm(SB), NOSPLIT, $0-28
	MOVD a+0(FP), R0
	MOVD b+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

loop16:
	CMP  $16, R2
	BLT  loop8
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	VFMLA V6.S4, V18.S4, V2.S4
	VFMLA V7.S4, V19.S4, V3.S4
	SUB  $16, R2
	B    loop16

loop8:
	CBZ  R2, done
	VLD1.P 32(R0), [V4.S4, V5.S4]
	VLD1.P 32(R1), [V16.S4, V17.S4]
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4

done:
	REDUCE
	FMOVS F0, ret+24(FP)
	RET

// func dotInt8Asm(q *float32, c *int8, n int) float32
// n is a positive multiple of 8. Codes are sign-extended to 16 then 32
// bits, converted to float32 and multiplied into four accumulators.
TEXT ·dotInt8Asm(SB), NOSPLIT, $0-28
	MOVD q+0(FP), R0
	MOVD c+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

iloop16:
	CMP  $16, R2
	BLT  iloop8
	VLD1.P 16(R1), [V20.B16]
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	WORD $0x0F08A695 // SXTL  V21.8H, V20.8B
	WORD $0x4F08A696 // SXTL2 V22.8H, V20.16B
	WORD $0x0F10A6B0 // SXTL  V16.4S, V21.4H
	WORD $0x4F10A6B1 // SXTL2 V17.4S, V21.8H
	WORD $0x0F10A6D2 // SXTL  V18.4S, V22.4H
	WORD $0x4F10A6D3 // SXTL2 V19.4S, V22.8H
	WORD $0x4E21DA10 // SCVTF V16.4S, V16.4S
	WORD $0x4E21DA31 // SCVTF V17.4S, V17.4S
	WORD $0x4E21DA52 // SCVTF V18.4S, V18.4S
	WORD $0x4E21DA73 // SCVTF V19.4S, V19.4S
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4
	VFMLA V6.S4, V18.S4, V2.S4
	VFMLA V7.S4, V19.S4, V3.S4
	SUB  $16, R2
	B    iloop16

iloop8:
	CBZ  R2, idone
	VLD1 (R1), [V20.B8]
	VLD1 (R0), [V4.S4, V5.S4]
	WORD $0x0F08A695 // SXTL  V21.8H, V20.8B
	WORD $0x0F10A6B0 // SXTL  V16.4S, V21.4H
	WORD $0x4F10A6B1 // SXTL2 V17.4S, V21.8H
	WORD $0x4E21DA10 // SCVTF V16.4S, V16.4S
	WORD $0x4E21DA31 // SCVTF V17.4S, V17.4S
	VFMLA V4.S4, V16.S4, V0.S4
	VFMLA V5.S4, V17.S4, V1.S4

idone:
	REDUCE
	FMOVS F0, ret+24(FP)
	RET

// func prefetchAsm(p *byte, n int)
// Issues PRFM PLDL1KEEP for every 64-byte line of the n bytes at p (n > 0).
TEXT ·prefetchAsm(SB), NOSPLIT, $0-16
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	ADD  R0, R1, R1

ploop:
	PRFM (R0), PLDL1KEEP
	ADD  $64, R0
	CMP  R1, R0
	BLO  ploop
	RET
