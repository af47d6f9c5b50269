/*
 * cpu.h -- which SIMD instruction sets this CPU *and* its operating system
 * support (cpu.c).  Each returns 1 or 0; the probe runs once and is cached.
 * The kernel table (dispatch.c) offers a target only where its check says 1.
 */
#ifndef FM_CPU_H
#define FM_CPU_H

int fm_cpu_has_avx2(void);   /* AVX2 + FMA, YMM state saved by the OS */
int fm_cpu_has_avx512(void); /* AVX-512 F/DQ/BW/VL, ZMM + opmask state saved */
int fm_cpu_has_avx512vnni(void); /* and AVX512_VNNI (int8 vpdpbusd on zmm) */
int fm_cpu_has_avxvnni(void);    /* AVX2 and AVX-VNNI (vpdpbusd on ymm, VEX) */
int fm_cpu_has_avx512_bf16(void); /* the above plus AVX512_BF16 (vdpbf16ps) */

#endif /* FM_CPU_H */
