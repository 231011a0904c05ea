//! Linear / logistic scoring with a fixed-lane dot product.
//!
//! The reduction is defined by [`dot_reference`]: eight partial sums (lanes
//! `0..8`, element `i` into lane `i % 8`) combined as
//! `((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7))`. The AVX or SSE (x86_64) and
//! `simd128` (Wasm) paths compute exactly that arithmetic (one 8-lane or two 4-lane
//! accumulators, no FMA), so every runtime gets the same bits; a test checks them against the
//! reference. (Auto-vectorising the reference produced shuffle-heavy code, 3x slower.)

const LANES: usize = 8;

/// The defining scalar reduction (also the fallback on other targets).
pub fn dot_reference(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let mut acc = [0.0f32; LANES];
    for i in 0..n {
        acc[i % LANES] += a[i] * b[i];
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// Dot product with the fixed lane order of [`dot_reference`].
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        sse::dot(a, b)
    }
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        wasm::dot(a, b)
    }
    #[cfg(not(any(target_arch = "x86_64", all(target_arch = "wasm32", target_feature = "simd128"))))]
    {
        dot_reference(a, b)
    }
}

/// Adds the tail (fewer than 8 elements) into the lanes it belongs to, then combines.
#[inline]
fn finish(mut lo: [f32; 4], mut hi: [f32; 4], a: &[f32], b: &[f32]) -> f32 {
    for (l, (x, y)) in a.iter().zip(b).enumerate() {
        if l < 4 {
            lo[l] += x * y;
        } else {
            hi[l - 4] += x * y;
        }
    }
    ((lo[0] + hi[0]) + (lo[1] + hi[1])) + ((lo[2] + hi[2]) + (lo[3] + hi[3]))
}

#[cfg(all(test, target_arch = "x86_64"))]
pub(super) use sse::dot_sse;

#[cfg(target_arch = "x86_64")]
mod sse {
    use core::arch::x86_64::{
        _mm256_add_ps, _mm256_loadu_ps, _mm256_mul_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm_add_ps, _mm_loadu_ps, _mm_mul_ps,
        _mm_setzero_ps, _mm_storeu_ps,
    };

    /// AVX when the CPU has it (one 8-lane register holds exactly the reference's
    /// eight partial sums; no FMA, so the bits are the same), else SSE.
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: AVX is present (checked just above).
            unsafe { dot_avx(a, b) }
        } else {
            dot_sse(a, b)
        }
    }

    #[target_feature(enable = "avx")]
    unsafe fn dot_avx(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let chunks = n / 8;
        let mut acc = [0.0f32; 8];
        // SAFETY: every load reads 8 floats at offsets below `chunks * 8 <= n` of both slices.
        unsafe {
            let mut v = _mm256_setzero_ps();
            for c in 0..chunks {
                v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_loadu_ps(a.as_ptr().add(c * 8)), _mm256_loadu_ps(b.as_ptr().add(c * 8))));
            }
            _mm256_storeu_ps(acc.as_mut_ptr(), v);
        }
        let (lo, hi) = ([acc[0], acc[1], acc[2], acc[3]], [acc[4], acc[5], acc[6], acc[7]]);
        super::finish(lo, hi, &a[chunks * 8..n], &b[chunks * 8..n])
    }

    pub fn dot_sse(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let chunks = n / 8;
        let (mut lo, mut hi) = ([0.0f32; 4], [0.0f32; 4]);
        // SAFETY: SSE is part of the x86_64 baseline; every load reads 4 floats at
        // offsets below `chunks * 8 <= n` of both slices.
        unsafe {
            let (mut vlo, mut vhi) = (_mm_setzero_ps(), _mm_setzero_ps());
            for c in 0..chunks {
                let (pa, pb) = (a.as_ptr().add(c * 8), b.as_ptr().add(c * 8));
                vlo = _mm_add_ps(vlo, _mm_mul_ps(_mm_loadu_ps(pa), _mm_loadu_ps(pb)));
                vhi = _mm_add_ps(vhi, _mm_mul_ps(_mm_loadu_ps(pa.add(4)), _mm_loadu_ps(pb.add(4))));
            }
            _mm_storeu_ps(lo.as_mut_ptr(), vlo);
            _mm_storeu_ps(hi.as_mut_ptr(), vhi);
        }
        super::finish(lo, hi, &a[chunks * 8..n], &b[chunks * 8..n])
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::{f32x4_add, f32x4_extract_lane, f32x4_mul, f32x4_splat, v128, v128_load};

    fn lanes(v: v128) -> [f32; 4] {
        [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)]
    }

    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let chunks = n / 8;
        let (mut vlo, mut vhi) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for c in 0..chunks {
            // SAFETY: each load reads 4 floats at offsets below `chunks * 8 <= n`;
            // v128_load has no alignment requirement.
            unsafe {
                let (pa, pb) = (a.as_ptr().add(c * 8) as *const v128, b.as_ptr().add(c * 8) as *const v128);
                vlo = f32x4_add(vlo, f32x4_mul(v128_load(pa), v128_load(pb)));
                let (pa, pb) = (a.as_ptr().add(c * 8 + 4) as *const v128, b.as_ptr().add(c * 8 + 4) as *const v128);
                vhi = f32x4_add(vhi, f32x4_mul(v128_load(pa), v128_load(pb)));
            }
        }
        super::finish(lanes(vlo), lanes(vhi), &a[chunks * 8..n], &b[chunks * 8..n])
    }
}

pub(super) fn score(weights: &[f32], bias: &[f32], row: &[f32], out: &mut [f32]) {
    let n = row.len();
    for (o, y) in out.iter_mut().enumerate() {
        let w = weights.get(o * n..(o + 1) * n).unwrap_or(&[]);
        *y = bias.get(o).copied().unwrap_or(0.0) + dot(w, row);
    }
}
