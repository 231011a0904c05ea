//! Linear / logistic scoring with a fixed-lane dot product.

const LANES: usize = 8;

/// Dot product with 8 partial sums combined in a fixed order, so native SIMD and
/// Wasm `simd128` vectorise the same arithmetic and give the same bits.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ca.remainder().iter().zip(cb.remainder()).enumerate() {
        acc[l] += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

pub(super) fn score(weights: &[f32], bias: &[f32], row: &[f32], out: &mut [f32]) {
    let n = row.len();
    for (o, y) in out.iter_mut().enumerate() {
        let w = weights.get(o * n..(o + 1) * n).unwrap_or(&[]);
        *y = bias.get(o).copied().unwrap_or(0.0) + dot(w, row);
    }
}
