//! The "generated" media: an SVG picture per task and index (colours and shapes from a hash
//! of the prompt, the prompt written on it), a poster, and a small real WebM clip.

use crate::util::fnv1a;

/// A 3-second 320x180 VP9 clip made with ffmpeg's `gradients` source (see assets/README.md).
pub static SAMPLE_WEBM: &[u8] = include_bytes!("../../assets/sample.webm");

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Wraps text into at most `max_lines` lines of about `width` characters.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            let keep: String = last.chars().take(width.saturating_sub(1)).collect();
            *last = format!("{keep}…");
        }
    }
    for l in lines.iter_mut() {
        if l.chars().count() > width + 4 {
            let keep: String = l.chars().take(width).collect();
            *l = format!("{keep}…");
        }
    }
    lines
}

/// Parses `WxH` (default 1024x1024), keeping the aspect ratio but at most 1024 wide.
fn dimensions(size: &str, default: (u32, u32)) -> (u32, u32) {
    let parsed = size
        .split_once(['x', 'X'])
        .and_then(|(w, h)| Some((w.trim().parse::<u32>().ok()?, h.trim().parse::<u32>().ok()?)))
        .filter(|(w, h)| *w > 0 && *h > 0);
    let (w, h) = parsed.unwrap_or(default);
    if w > 1024 {
        (1024, (h as u64 * 1024 / w as u64).max(1) as u32)
    } else {
        (w, h)
    }
}

struct Palette {
    h1: u64,
    h2: u64,
    h3: u64,
    seed: u64,
}

fn palette(prompt: &str, index: u32) -> Palette {
    let seed = fnv1a(prompt.as_bytes()) ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let h1 = seed % 360;
    Palette {
        h1,
        h2: (h1 + 40 + (seed >> 12) % 100) % 360,
        h3: (h1 + 180 + (seed >> 24) % 60) % 360,
        seed,
    }
}

/// The picture of image `index` of a task.
pub fn image_svg(prompt: &str, size: &str, index: u32, total: u32, model: &str) -> String {
    let (w, h) = dimensions(size, (1024, 1024));
    let p = palette(prompt, index);
    let mut shapes = String::new();
    let mut s = p.seed;
    for i in 0..7u64 {
        s = s.rotate_left(13) ^ (s >> 7) ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let cx = s % w as u64;
        let cy = (s >> 16) % (h as u64 * 3 / 4);
        let r = (w.min(h) as u64 / 12) + (s >> 32) % (w.min(h) as u64 / 4);
        let hue = [p.h1, p.h2, p.h3][(i % 3) as usize];
        shapes.push_str(&format!(
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"hsl({hue},80%,{}%)\" opacity=\"0.35\"/>",
            55 + (s >> 40) % 25
        ));
    }
    let hill = format!(
        "<path d=\"M0 {y0} C {x1} {y1}, {x2} {y2}, {w} {y3} L {w} {h} L 0 {h} Z\" fill=\"hsl({},45%,22%)\" opacity=\"0.55\"/>",
        p.h3,
        y0 = h * 70 / 100,
        x1 = w / 3,
        y1 = h * 55 / 100,
        x2 = w * 2 / 3,
        y2 = h * 85 / 100,
        y3 = h * 65 / 100,
    );
    let font = (w.min(h) / 26).max(12);
    let lines = wrap(prompt, ((w / font) as usize * 17 / 10).max(12), 4);
    let line_h = font * 13 / 10;
    let card_h = line_h * (lines.len() as u32).saturating_sub(1) + font * 2;
    let card_y = h - card_h - h / 20;
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        text.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"{font}\">{}</text>",
            w / 20 + font,
            card_y + font * 5 / 4 + line_h * i as u32,
            xml_escape(line)
        ));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{alt}\">\
<defs><linearGradient id=\"g\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\">\
<stop offset=\"0\" stop-color=\"hsl({h1},75%,62%)\"/><stop offset=\"1\" stop-color=\"hsl({h2},70%,38%)\"/></linearGradient></defs>\
<rect width=\"{w}\" height=\"{h}\" fill=\"url(#g)\"/>{shapes}{hill}\
<rect x=\"{cx}\" y=\"{card_y}\" width=\"{cw}\" height=\"{card_h}\" rx=\"{rx}\" fill=\"#000\" opacity=\"0.42\"/>\
<g fill=\"#fff\" font-family=\"system-ui,-apple-system,Segoe UI,sans-serif\">{text}\
<text x=\"{lx}\" y=\"{ly}\" font-size=\"{small}\" opacity=\"0.8\">{label}</text></g></svg>",
        alt = xml_escape(prompt),
        h1 = p.h1,
        h2 = p.h2,
        cx = w / 20,
        cw = w - w / 10,
        rx = font / 2,
        lx = w / 20 + font,
        ly = h / 20 + font,
        small = (font * 2 / 3).max(10),
        label = xml_escape(&format!("{model} · image {} of {total} · conduit-devserver", index + 1)),
    )
}

/// The poster / preview of a video task.
pub fn poster_svg(prompt: &str) -> String {
    let (w, h) = (1280u32, 720u32);
    let p = palette(prompt, 99);
    let lines = wrap(prompt, 48, 2);
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        text.push_str(&format!(
            "<text x=\"640\" y=\"{}\" font-size=\"38\" text-anchor=\"middle\">{}</text>",
            560 + i * 48,
            xml_escape(line)
        ));
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{alt}\">\
<defs><radialGradient id=\"g\" cx=\"0.3\" cy=\"0.3\" r=\"1\"><stop offset=\"0\" stop-color=\"hsl({},80%,60%)\"/>\
<stop offset=\"1\" stop-color=\"hsl({},65%,25%)\"/></radialGradient></defs>\
<rect width=\"{w}\" height=\"{h}\" fill=\"url(#g)\"/>\
<circle cx=\"640\" cy=\"320\" r=\"110\" fill=\"#000\" opacity=\"0.35\"/>\
<path d=\"M605 255 L605 385 L715 320 Z\" fill=\"#fff\"/>\
<g fill=\"#fff\" font-family=\"system-ui,-apple-system,Segoe UI,sans-serif\">{text}</g></svg>",
        p.h1,
        p.h2,
        alt = xml_escape(prompt),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svgs_are_stable_escaped_and_sized() {
        let a = image_svg("a <red> fox & \"friends\"", "512x256", 0, 2, "dall-e-3");
        assert!(a.starts_with("<svg"));
        assert!(a.contains("width=\"512\" height=\"256\""));
        assert!(a.contains("&lt;red&gt; fox &amp;"));
        assert!(!a.contains("<red>"));
        assert_eq!(
            a,
            image_svg("a <red> fox & \"friends\"", "512x256", 0, 2, "dall-e-3")
        );
        assert_ne!(
            a,
            image_svg("a <red> fox & \"friends\"", "512x256", 1, 2, "dall-e-3")
        );
        assert!(image_svg("x", "4096x2048", 0, 1, "m").contains("width=\"1024\" height=\"512\""));
        assert!(image_svg("x", "garbage", 0, 1, "m").contains("width=\"1024\""));
        assert!(poster_svg("a long prompt ".repeat(30).as_str()).contains("…"));
    }

    #[test]
    fn webm_is_real() {
        assert_eq!(&SAMPLE_WEBM[..4], &[0x1a, 0x45, 0xdf, 0xa3]);
    }
}
