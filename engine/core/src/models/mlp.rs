//! Small multi-layer perceptrons.
use super::{linear::dot, sigmoid, softmax, Activation, Dense};

pub(super) fn score(layers: &[Dense], row: &[f32], a: &mut Vec<f32>, b: &mut Vec<f32>, out: &mut [f32]) {
    a.clear();
    a.extend_from_slice(row);
    for layer in layers {
        let n_in = layer.n_in as usize;
        b.clear();
        for o in 0..layer.n_out as usize {
            let w = layer.weights.get(o * n_in..(o + 1) * n_in).unwrap_or(&[]);
            b.push(layer.bias.get(o).copied().unwrap_or(0.0) + dot(w, a));
        }
        match layer.activation {
            Activation::Identity => {}
            Activation::Relu => b.iter_mut().for_each(|x| *x = x.max(0.0)),
            Activation::Sigmoid => b.iter_mut().for_each(|x| *x = sigmoid(*x)),
            Activation::Tanh => b.iter_mut().for_each(|x| *x = libm::tanhf(*x)),
            Activation::Softmax => softmax(b, false),
        }
        core::mem::swap(a, b);
    }
    for (y, x) in out.iter_mut().zip(a.iter()) {
        *y = *x;
    }
}
