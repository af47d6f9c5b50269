/*
 * cpu.c -- which SIMD instruction sets this CPU *and* its operating system
 * support, for the kernel table (dispatch.c, cpu.h).
 *
 * x86-64 only: CPUID leaf 1 (FMA, OSXSAVE, AVX) and leaf 7 (AVX2,
 * AVX-512 F/DQ/BW/VL; subleaf 1: AVX512_BF16), then XGETBV(0) to check that the OS saves the
 * registers on a context switch: XMM+YMM state (XCR0 bits 1-2) for AVX2,
 * plus opmask, ZMM0-15 upper halves and ZMM16-31 (bits 5-7) for AVX-512.
 * A CPU bit without the OS bit means the instructions fault, so both count.
 *
 * The probe runs once; the result is cached in a static (a racing first
 * call computes the same value, so no lock is needed).  Other architectures
 * compile this file too and report no SIMD, and the dispatcher then offers
 * "generic" and "ref" only.
 *
 * Compiled without ISA flags: XGETBV is issued through inline asm (or the
 * MSVC intrinsic) so no -mxsave is needed.
 */
#include "core/cpu.h"

#if defined(__x86_64__) || defined(_M_X64)
#define FM_CPU_X86_64 1
#if defined(_MSC_VER)
#include <intrin.h>
#include <immintrin.h>
#else
#include <cpuid.h>
#endif
#endif

/* Feature bits kept in the cache. */
#define FM_CPU_AVX2 1u   /* AVX + AVX2 + FMA, OS YMM state */
#define FM_CPU_AVX512 2u /* AVX-512 F, DQ, BW, VL, OS ZMM + opmask state */
#define FM_CPU_AVX512VNNI 0x10u /* AVX512_VNNI (with the AVX-512 set above) */
#define FM_CPU_AVXVNNI 0x20u /* AVX-VNNI: VEX-encoded vpdpbusd on ymm (with AVX2) */
#define FM_CPU_AVX512_BF16 0x40u /* AVX-512 as above + AVX512_BF16 */
#define FM_CPU_PROBED 0x80u

#ifdef FM_CPU_X86_64
static void fm_cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
#if defined(_MSC_VER)
    int v[4];
    __cpuidex(v, (int)leaf, (int)sub);
    r[0] = (unsigned)v[0]; r[1] = (unsigned)v[1]; r[2] = (unsigned)v[2]; r[3] = (unsigned)v[3];
#else
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

static unsigned long long fm_xgetbv0(void)
{
#if defined(_MSC_VER)
    return _xgetbv(0);
#else
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
#endif
}

static unsigned fm_cpu_probe(void)
{
    unsigned r[4], max_leaf, f = 0;
    unsigned long long xcr0;
    fm_cpuid(0, 0, r);
    max_leaf = r[0];
    if (max_leaf < 7) return 0;
    fm_cpuid(1, 0, r);
    /* ECX: bit 12 FMA, bit 27 OSXSAVE (XGETBV usable), bit 28 AVX */
    if (!(r[2] & (1u << 12)) || !(r[2] & (1u << 27)) || !(r[2] & (1u << 28))) return 0;
    xcr0 = fm_xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* OS does not save XMM/YMM */
    fm_cpuid(7, 0, r);
    /* EBX: bit 5 AVX2, 16 AVX512F, 17 AVX512DQ, 30 AVX512BW, 31 AVX512VL */
    if (r[1] & (1u << 5)) f |= FM_CPU_AVX2;
    if ((f & FM_CPU_AVX2) && (r[1] & (1u << 16)) && (r[1] & (1u << 17)) &&
        (r[1] & (1u << 30)) && (r[1] & (1u << 31)) && (xcr0 & 0xE6) == 0xE6)
        f |= FM_CPU_AVX512;
    /* ECX bit 11: AVX512_VNNI */
    if ((f & FM_CPU_AVX512) && (r[2] & (1u << 11))) f |= FM_CPU_AVX512VNNI;
    /* leaf 7 sub-leaf 1, EAX bit 4: AVX-VNNI, bit 5: AVX512_BF16 (EAX of sub-leaf 0
     * gives the sub-leaves) */
    if ((f & FM_CPU_AVX2) && r[0] >= 1) {
        fm_cpuid(7, 1, r);
        if (r[0] & (1u << 4)) f |= FM_CPU_AVXVNNI;
        if ((f & FM_CPU_AVX512) && (r[0] & (1u << 5))) f |= FM_CPU_AVX512_BF16;
    }
    return f;
}
#else
static unsigned fm_cpu_probe(void) { return 0; }
#endif

static volatile unsigned fm_cpu_cache = 0;

static unsigned fm_cpu_features(void)
{
    unsigned f = fm_cpu_cache;
    if (!(f & FM_CPU_PROBED)) {
        f = fm_cpu_probe() | FM_CPU_PROBED;
        fm_cpu_cache = f;
    }
    return f;
}

int fm_cpu_has_avx2(void) { return (fm_cpu_features() & FM_CPU_AVX2) != 0; }

int fm_cpu_has_avx512(void) { return (fm_cpu_features() & FM_CPU_AVX512) != 0; }

int fm_cpu_has_avx512vnni(void) { return (fm_cpu_features() & FM_CPU_AVX512VNNI) != 0; }

int fm_cpu_has_avxvnni(void) { return (fm_cpu_features() & FM_CPU_AVXVNNI) != 0; }

int fm_cpu_has_avx512_bf16(void) { return (fm_cpu_features() & FM_CPU_AVX512_BF16) != 0; }
