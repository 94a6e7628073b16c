//! A QR code encoder (ISO/IEC 18004), just big enough for payment codes:
//! byte mode, error correction level M, the smallest version that fits,
//! and the mask with the lowest penalty. Payment links are short ASCII
//! URLs, so the other modes would save no modules worth their bytes in the
//! bundle.

/// A QR code: `size` × `size` modules, dark or light.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qr {
    /// Modules per side (21 for version 1, 4 more per version).
    pub size: usize,
    modules: Vec<bool>,
    reserved: Vec<bool>,
}

/// Error correction codewords per block at level M, by version (1..=40).
const ECC_PER_BLOCK: [u8; 40] = [
    10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];

/// Error correction blocks at level M, by version (1..=40).
const BLOCKS: [u8; 40] = [
    1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25,
    26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];

/// Level M's two format bits.
const LEVEL_M: u32 = 0;

impl Qr {
    /// Encodes `data`, or `None` when it is longer than a QR code holds.
    pub fn encode(data: &[u8]) -> Option<Qr> {
        let version = (1..=40).find(|&v| 4 + count_bits(v) + data.len() * 8 <= capacity(v) * 8)?;
        let mut qr = Qr::blank(version);
        let codewords = with_error_correction(version, &message(version, data));
        qr.draw_codewords(&codewords);
        let best = (0..8)
            .min_by_key(|&mask| {
                let mut candidate = qr.clone();
                candidate.apply_mask(mask);
                candidate.draw_format(mask);
                candidate.penalty()
            })
            .unwrap_or(0);
        qr.apply_mask(best);
        qr.draw_format(best);
        Some(qr)
    }

    /// True when the module at column `x`, row `y` is dark.
    pub fn dark(&self, x: usize, y: usize) -> bool {
        self.modules[y * self.size + x]
    }

    fn blank(version: usize) -> Qr {
        let size = version * 4 + 17;
        let mut qr = Qr {
            size,
            modules: vec![false; size * size],
            reserved: vec![false; size * size],
        };
        for i in 0..size {
            qr.set(6, i, i % 2 == 0);
            qr.set(i, 6, i % 2 == 0);
        }
        let far = size - 4;
        for (cx, cy) in [(3, 3), (far, 3), (3, far)] {
            for dy in -4i32..=4 {
                for dx in -4i32..=4 {
                    let (x, y) = (cx as i32 + dx, cy as i32 + dy);
                    if (0..size as i32).contains(&x) && (0..size as i32).contains(&y) {
                        let ring = dx.abs().max(dy.abs());
                        qr.set(x as usize, y as usize, ring != 2 && ring != 4);
                    }
                }
            }
        }
        let centres = alignment_centres(version);
        let last = centres.len().saturating_sub(1);
        for (i, &cx) in centres.iter().enumerate() {
            for (j, &cy) in centres.iter().enumerate() {
                // None over the finder patterns' corners.
                if (i == 0 && (j == 0 || j == last)) || (i == last && j == 0) {
                    continue;
                }
                for dy in -2i32..=2 {
                    for dx in -2i32..=2 {
                        let dark = dx.abs().max(dy.abs()) != 1;
                        qr.set((cx as i32 + dx) as usize, (cy as i32 + dy) as usize, dark);
                    }
                }
            }
        }
        // Reserve the format areas (drawn per mask) and draw the version.
        qr.draw_format(0);
        if version >= 7 {
            let mut rem = version as u32;
            for _ in 0..12 {
                rem = (rem << 1) ^ ((rem >> 11) * 0x1F25);
            }
            let bits = (version as u32) << 12 | rem;
            for i in 0..18 {
                let dark = bits >> i & 1 == 1;
                let (a, b) = (size - 11 + i % 3, i / 3);
                qr.set(a, b, dark);
                qr.set(b, a, dark);
            }
        }
        qr
    }

    fn set(&mut self, x: usize, y: usize, dark: bool) {
        let at = y * self.size + x;
        self.modules[at] = dark;
        self.reserved[at] = true;
    }

    fn draw_format(&mut self, mask: u32) {
        let data = LEVEL_M << 3 | mask;
        let mut rem = data;
        for _ in 0..10 {
            rem = (rem << 1) ^ ((rem >> 9) * 0x537);
        }
        let bits = (data << 10 | rem) ^ 0x5412;
        let bit = |i: usize| bits >> i & 1 == 1;
        let size = self.size;
        for i in 0..6 {
            self.set(8, i, bit(i));
        }
        self.set(8, 7, bit(6));
        self.set(8, 8, bit(7));
        self.set(7, 8, bit(8));
        for i in 9..15 {
            self.set(14 - i, 8, bit(i));
        }
        for i in 0..8 {
            self.set(size - 1 - i, 8, bit(i));
        }
        for i in 8..15 {
            self.set(8, size - 15 + i, bit(i));
        }
        self.set(8, size - 8, true);
    }

    /// Places the codewords in the two-column zigzag, bottom right first.
    fn draw_codewords(&mut self, codewords: &[u8]) {
        let size = self.size;
        let mut bit = 0;
        let mut right = size - 1;
        loop {
            if right == 6 {
                right = 5;
            }
            let upward = (right + 1) & 2 == 0;
            for vert in 0..size {
                let y = if upward { size - 1 - vert } else { vert };
                for x in [right, right - 1] {
                    let at = y * size + x;
                    if !self.reserved[at] && bit < codewords.len() * 8 {
                        self.modules[at] = codewords[bit / 8] >> (7 - bit % 8) & 1 == 1;
                        bit += 1;
                    }
                }
            }
            if right < 2 {
                break;
            }
            right -= 2;
        }
    }

    fn apply_mask(&mut self, mask: u32) {
        for y in 0..self.size {
            for x in 0..self.size {
                let flip = match mask {
                    0 => (x + y) % 2 == 0,
                    1 => y % 2 == 0,
                    2 => x % 3 == 0,
                    3 => (x + y) % 3 == 0,
                    4 => (x / 3 + y / 2) % 2 == 0,
                    5 => x * y % 2 + x * y % 3 == 0,
                    6 => (x * y % 2 + x * y % 3) % 2 == 0,
                    _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
                };
                let at = y * self.size + x;
                if flip && !self.reserved[at] {
                    self.modules[at] = !self.modules[at];
                }
            }
        }
    }

    /// The standard's four penalty rules: long runs, 2×2 blocks,
    /// finder-like patterns and an unbalanced share of dark modules.
    fn penalty(&self) -> usize {
        let size = self.size;
        let mut score = 0;
        for horizontal in [true, false] {
            for line in 0..size {
                let at = |i: usize| {
                    if horizontal {
                        self.dark(i, line)
                    } else {
                        self.dark(line, i)
                    }
                };
                let mut run = 1;
                for i in 1..=size {
                    if i < size && at(i) == at(i - 1) {
                        run += 1;
                        continue;
                    }
                    if run >= 5 {
                        score += run - 2;
                    }
                    run = 1;
                }
                // 1:1:3:1:1 with four light modules on either side.
                for i in 0..size.saturating_sub(10) {
                    let window: u16 = (0..11).fold(0, |acc, k| acc << 1 | u16::from(at(i + k)));
                    if window == 0b101_1101_0000 || window == 0b000_0101_1101 {
                        score += 40;
                    }
                }
            }
        }
        for y in 0..size - 1 {
            for x in 0..size - 1 {
                let dark = self.dark(x, y);
                if dark == self.dark(x + 1, y)
                    && dark == self.dark(x, y + 1)
                    && dark == self.dark(x + 1, y + 1)
                {
                    score += 3;
                }
            }
        }
        let dark = self.modules.iter().filter(|&&m| m).count();
        let total = size * size;
        // Ten points for each full 5% away from half dark.
        let steps = (dark * 20)
            .abs_diff(total * 10)
            .div_ceil(total)
            .saturating_sub(1);
        score + steps * 10
    }
}

/// Bits of the byte-mode character count.
fn count_bits(version: usize) -> usize {
    if version < 10 {
        8
    } else {
        16
    }
}

/// Modules that carry data or error correction (not function patterns).
fn raw_modules(version: usize) -> usize {
    let mut modules = (16 * version + 128) * version + 64;
    if version >= 2 {
        let aligns = version / 7 + 2;
        modules -= (25 * aligns - 10) * aligns - 55;
        if version >= 7 {
            modules -= 36;
        }
    }
    modules
}

/// Data codewords a version holds at level M.
fn capacity(version: usize) -> usize {
    raw_modules(version) / 8
        - usize::from(ECC_PER_BLOCK[version - 1]) * usize::from(BLOCKS[version - 1])
}

fn alignment_centres(version: usize) -> Vec<usize> {
    if version == 1 {
        return vec![];
    }
    let count = version / 7 + 2;
    let step = if version == 32 {
        26
    } else {
        (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
    };
    let size = version * 4 + 17;
    let mut centres: Vec<usize> = (0..count - 1).map(|i| size - 7 - i * step).collect();
    centres.push(6);
    centres.reverse();
    centres
}

/// Mode, count, bytes, terminator and padding, as codewords.
fn message(version: usize, data: &[u8]) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.push(0b0100, 4);
    bits.push(data.len() as u32, count_bits(version));
    for &byte in data {
        bits.push(byte.into(), 8);
    }
    let room = capacity(version) * 8;
    bits.push(0, (room - bits.len).min(4));
    bits.push(0, (8 - bits.len % 8) % 8);
    let mut bytes = bits.bytes;
    for pad in [0xEC, 0x11].into_iter().cycle() {
        if bytes.len() >= capacity(version) {
            break;
        }
        bytes.push(pad);
    }
    bytes
}

#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    len: usize,
}

impl Bits {
    fn push(&mut self, value: u32, count: usize) {
        for i in (0..count).rev() {
            if self.len.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if value >> i & 1 == 1 {
                if let Some(last) = self.bytes.last_mut() {
                    *last |= 0x80 >> (self.len % 8);
                }
            }
            self.len += 1;
        }
    }
}

/// Splits the message into blocks, adds each block's Reed-Solomon
/// codewords, and interleaves them.
fn with_error_correction(version: usize, data: &[u8]) -> Vec<u8> {
    let blocks = usize::from(BLOCKS[version - 1]);
    let ecc_len = usize::from(ECC_PER_BLOCK[version - 1]);
    let raw = raw_modules(version) / 8;
    let short_blocks = blocks - raw % blocks;
    let short_len = raw / blocks - ecc_len;
    let divisor = generator(ecc_len);
    let mut rest = data;
    let split: Vec<(&[u8], Vec<u8>)> = (0..blocks)
        .map(|i| {
            let len = short_len + usize::from(i >= short_blocks);
            let (block, tail) = rest.split_at(len);
            rest = tail;
            (block, remainder(block, &divisor))
        })
        .collect();
    let mut out = Vec::with_capacity(raw);
    for i in 0..=short_len {
        for (block, _) in &split {
            if let Some(&byte) = block.get(i) {
                out.push(byte);
            }
        }
    }
    for i in 0..ecc_len {
        for (_, ecc) in &split {
            out.push(ecc[i]);
        }
    }
    out
}

/// GF(2^8) multiplication modulo x^8 + x^4 + x^3 + x^2 + 1.
fn multiply(a: u8, b: u8) -> u8 {
    let mut product: u16 = 0;
    for i in (0..8).rev() {
        product = (product << 1) ^ ((product >> 7) * 0x11D);
        product ^= u16::from(b >> i & 1) * u16::from(a);
    }
    product as u8
}

/// The Reed-Solomon generator polynomial of this degree, highest term
/// (always 1) left out.
fn generator(degree: usize) -> Vec<u8> {
    let mut poly = vec![0; degree];
    poly[degree - 1] = 1;
    let mut root = 1;
    for _ in 0..degree {
        for j in 0..degree {
            poly[j] = multiply(poly[j], root);
            if j + 1 < degree {
                poly[j] ^= poly[j + 1];
            }
        }
        root = multiply(root, 2);
    }
    poly
}

fn remainder(data: &[u8], divisor: &[u8]) -> Vec<u8> {
    let mut rem = vec![0; divisor.len()];
    for &byte in data {
        let factor = byte ^ rem[0];
        rem.rotate_left(1);
        if let Some(last) = rem.last_mut() {
            *last = 0;
        }
        for (r, &d) in rem.iter_mut().zip(divisor) {
            *r ^= multiply(d, factor);
        }
    }
    rem
}

// The decoder that plays the phone is a native dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Reads a code back the way a phone would, from pixels.
    fn scan(qr: &Qr) -> String {
        let scale = 4;
        let side = (qr.size + 8) * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            let (mx, my) = ((x / scale) as isize - 4, (y / scale) as isize - 4);
            let inside = (0..qr.size as isize).contains(&mx) && (0..qr.size as isize).contains(&my);
            if inside && qr.dark(mx as usize, my as usize) {
                0
            } else {
                255
            }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one code in the picture");
        let (_, content) = grids[0].decode().expect("the code decodes");
        content
    }

    #[test]
    fn payment_links_read_back_exactly() {
        for payload in [
            "weixin://wxpay/bizpayurl?pr=AbCdEfG1234",
            "https://qr.alipay.com/bax08431jqzzyq4fgyxp006b",
            "a",
            "",
        ] {
            let qr = Qr::encode(payload.as_bytes()).expect("it fits");
            assert_eq!(scan(&qr), payload);
        }
    }

    #[test]
    fn every_length_reads_back_across_versions() {
        // Lengths that land on each version up to 27, and the block
        // layouts (short and long blocks) with them.
        let mut seen = std::collections::BTreeSet::new();
        for len in (0..800).step_by(11) {
            let payload: String = (0..len)
                .map(|i| (b'!' + (i * 13 % 90) as u8) as char)
                .collect();
            let qr = Qr::encode(payload.as_bytes()).expect("it fits");
            seen.insert(qr.size);
            assert_eq!(scan(&qr), payload, "{len} bytes, {} modules", qr.size);
        }
        assert!(seen.len() > 20, "{seen:?}");
    }

    #[test]
    fn a_wechat_link_is_a_small_code() {
        let qr = Qr::encode(b"weixin://wxpay/bizpayurl?pr=AbCdEfG1234").unwrap();
        assert_eq!(qr.size, 29, "version 3");
    }

    #[test]
    fn the_largest_code_holds_2331_bytes_and_no_more() {
        let full = vec![b'x'; 2331];
        assert_eq!(Qr::encode(&full).map(|qr| qr.size), Some(177));
        assert_eq!(Qr::encode(&[b'x'; 2332]), None);
    }
}
