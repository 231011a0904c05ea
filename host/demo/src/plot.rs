//! The learning curve of `vitrine demo loop` as a self-contained SVG: true expected
//! reward per decision by round for each learner, the oracle's, and the regret.

/// One line of the plot.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    /// (round, value).
    pub points: Vec<(f64, f64)>,
    pub dashed: bool,
}

const W: f64 = 720.0;
const H: f64 = 300.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

fn panel(out: &mut String, y0: f64, title: &str, series: &[Series], x_max: f64) {
    let y_max = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).fold(0.0f64, f64::max).max(1e-9) * 1.1;
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let x = |v: f64| LEFT + pw * v / x_max.max(1.0);
    let y = |v: f64| y0 + TOP + ph * (1.0 - v / y_max);
    out.push_str(&format!("<text x=\"{LEFT}\" y=\"{:.1}\" font-size=\"14\" font-weight=\"bold\">{title}</text>\n", y0 + TOP - 10.0));
    out.push_str(&format!("<rect x=\"{LEFT}\" y=\"{:.1}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#999\"/>\n", y0 + TOP));
    for k in 0..=4 {
        let v = y_max * f64::from(k) / 4.0;
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{v:.3}</text>\n",
            LEFT - 6.0,
            y(v) + 4.0
        ));
    }
    for r in 0..=(x_max as u32) {
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{r}</text>\n",
            x(f64::from(r)),
            y0 + H - BOTTOM + 16.0
        ));
    }
    out.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">round</text>\n",
        LEFT + pw / 2.0,
        y0 + H - 6.0
    ));
    for (k, s) in series.iter().enumerate() {
        let path: Vec<String> = s.points.iter().map(|&(a, b)| format!("{:.1},{:.1}", x(a), y(b))).collect();
        let dash = if s.dashed { " stroke-dasharray=\"6 4\"" } else { "" };
        out.push_str(&format!("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash} points=\"{}\"/>\n", s.color, path.join(" ")));
        for &(a, b) in &s.points {
            out.push_str(&format!("<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"{}\"/>\n", x(a), y(b), s.color));
        }
        let ly = y0 + TOP + 14.0 + 18.0 * k as f64;
        out.push_str(&format!(
            "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>\n",
            W - RIGHT + 10.0,
            W - RIGHT + 30.0,
            s.color
        ));
        out.push_str(&format!("<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>\n", W - RIGHT + 36.0, ly + 4.0, s.name));
    }
}

/// Two stacked panels: reward (with the oracle) and regret, over rounds `0..=x_max`.
pub fn svg(title: &str, reward: &[Series], regret: &[Series], x_max: f64) -> String {
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{}\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        2.0 * H + 20.0
    );
    panel(&mut out, 0.0, &format!("{title}: true expected reward per decision"), reward, x_max);
    panel(&mut out, H + 20.0, "regret (oracle − policy)", regret, x_max);
    out.push_str("</svg>\n");
    out
}
