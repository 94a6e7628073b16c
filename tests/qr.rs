//! The component's QR codes, for every version from 1 to 40: module for
//! module the same as a second, independent encoder's (kennytm's `qrcode`,
//! table-driven where qrcodegen computes), and read back to the payload by
//! two decoders of different lineage (rqrr, after quirc, which the
//! end-to-end journeys also use; rxing, after ZXing).
// The second encoder and the decoders are native dev-dependencies.
#![cfg(not(target_arch = "wasm32"))]

use payment_selector::components::encode_qr;
use qrcode::bits::Bits;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::types::Color;
use qrcode::{EcLevel, Version};
use rxing::{BarcodeFormat, RXingResultMetadataType, RXingResultMetadataValue};

/// Bytes that byte mode holds at level M, by version, from ISO/IEC 18004's
/// capacity table: a third source, beside the two encoders' own figures.
const CAPACITY: [usize; 40] = [
    14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412, 450, 504, 560, 624, 666,
    711, 779, 857, 911, 997, 1059, 1125, 1190, 1264, 1370, 1452, 1538, 1628, 1722, 1809, 1911,
    1989, 2099, 2213, 2331,
];

const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// A payment link of exactly `len` bytes, with UTF-8 in it where it is
/// long enough, different for every length so no two versions carry the
/// same data.
fn payload(len: usize) -> String {
    const START: &str = "https://qr.example/付款?";
    const FILL: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_=&";
    let mut text = String::with_capacity(len);
    if len >= START.len() {
        text.push_str(START);
    }
    let mut state = len;
    while text.len() < len {
        state = state.wrapping_mul(31).wrapping_add(7);
        text.push(char::from(FILL[state % FILL.len()]));
    }
    text
}

/// The component's modules, row by row, and the mask it applied.
fn component(payload: &str, mask: Option<u8>) -> (usize, Vec<bool>, u8) {
    let code = encode_qr(payload, mask.map(qrcodegen::Mask::new)).expect("it fits");
    let size = code.size();
    let modules = (0..size)
        .flat_map(|y| (0..size).map(move |x| (x, y)))
        .map(|(x, y)| code.get_module(x, y))
        .collect();
    (size as usize, modules, code.mask().value())
}

/// The same payload through the `qrcode` crate: byte mode forced (its own
/// choice would mix modes), level M, this version, this mask.
fn second_encoder(payload: &str, version: usize, mask: u8) -> Vec<bool> {
    let version = Version::Normal(version as i16);
    let mut bits = Bits::new(version);
    bits.push_byte_data(payload.as_bytes()).expect("it fits");
    bits.push_terminator(EcLevel::M).expect("it fits");
    let (data, ecc) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M)
        .expect("level M exists at every version");
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ecc);
    canvas.apply_mask(MASKS[usize::from(mask)]);
    canvas
        .into_colors()
        .into_iter()
        .map(|color| color == Color::Dark)
        .collect()
}

/// Where the two matrices first differ, to say so when they do.
fn first_difference(size: usize, ours: &[bool], theirs: &[bool]) -> Option<(usize, usize)> {
    (0..ours.len().max(theirs.len()))
        .find(|&i| ours.get(i) != theirs.get(i))
        .map(|i| (i % size, i / size))
}

/// The code drawn as a phone's camera would see it: four pixels a module,
/// black on white, inside a four-module quiet zone.
fn picture(size: usize, modules: &[bool]) -> (usize, Vec<u8>) {
    let scale = 4;
    let side = (size + 8) * scale;
    let pixels = (0..side * side)
        .map(|i| {
            let (x, y) = (
                (i % side / scale).wrapping_sub(4),
                (i / side / scale).wrapping_sub(4),
            );
            if x < size && y < size && modules[y * size + x] {
                0
            } else {
                255
            }
        })
        .collect();
    (side, pixels)
}

/// Checks `text` as the component draws it: module for module the second
/// encoder's code of the same version and mask, and read back exactly, as
/// level M with that version and mask, by both decoders. Returns the
/// version and the mask.
fn check(text: &str) -> (usize, u8) {
    let (size, modules, mask) = component(text, None);
    let version = (size - 17) / 4;
    let theirs = second_encoder(text, version, mask);
    assert_eq!(
        first_difference(size, &modules, &theirs),
        None,
        "{} bytes, version {version}, the component's mask {mask}: the encoders differ at (x, y)",
        text.len()
    );

    let (side, pixels) = picture(size, &modules);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "version {version}: one code in the picture");
    let (meta, content) = grids[0]
        .decode()
        .unwrap_or_else(|e| panic!("version {version}: rqrr reads it: {e}"));
    assert_eq!(content, text, "version {version}, rqrr");
    assert_eq!(meta.version.0, version, "rqrr's version");
    assert_eq!(meta.ecc_level, 0, "rqrr's level: 0 is M in the format bits");
    assert_eq!(meta.mask, u16::from(mask), "rqrr's mask");

    let read = rxing::helpers::detect_in_luma(
        pixels,
        side as u32,
        side as u32,
        Some(BarcodeFormat::QR_CODE),
    )
    .unwrap_or_else(|e| panic!("version {version}: rxing reads it: {e}"));
    assert_eq!(read.getText(), text, "version {version}, rxing");
    assert!(
        matches!(
            read.getRXingResultMetadata().get(&RXingResultMetadataType::ERROR_CORRECTION_LEVEL),
            Some(RXingResultMetadataValue::ErrorCorrectionLevel(level)) if level == "M"
        ),
        "version {version}: rxing's level"
    );
    (version, mask)
}

#[test]
fn every_version_matches_a_second_encoder_module_for_module_and_reads_back() {
    let mut masks = std::collections::BTreeSet::new();
    for version in 1..=40 {
        let text = payload(CAPACITY[version - 1]);
        let (read, mask) = check(&text);
        assert_eq!(read, version, "{} bytes", text.len());
        masks.insert(mask);
    }
    // The mask is chosen per code (by qrcodegen's penalty; the second
    // encoder reads the penalty rules differently, so it cannot say which
    // mask is best), not fixed.
    assert!(masks.len() > 2, "masks chosen: {masks:?}");
}

#[test]
fn payment_links_stay_at_level_m_in_the_smallest_version() {
    // Short codes are where a version has room for a higher level.
    for (link, version) in [
        ("", 1),
        ("a", 1),
        ("weixin://wxpay/bizpayurl?pr=AbCdEfG1234", 3),
        ("https://qr.alipay.com/bax08431jqzzyq4fgyxp006b", 4),
        ("https://qr.95516.com/00010000/62112028173283416953", 4),
    ] {
        assert_eq!(check(link).0, version, "{link:?}");
    }
}

#[test]
fn every_mask_of_every_version_matches_the_second_encoder() {
    for version in 1..=40 {
        // A byte short of full, so the padding differs from the test above.
        let text = payload(CAPACITY[version - 1] - 1);
        for mask in 0..8 {
            let (size, modules, applied) = component(&text, Some(mask));
            assert_eq!((size, applied), (17 + 4 * version, mask));
            let theirs = second_encoder(&text, version, mask);
            assert_eq!(
                first_difference(size, &modules, &theirs),
                None,
                "version {version}, mask {mask}: the encoders differ at (x, y)"
            );
        }
    }
}

#[test]
fn one_byte_more_than_a_version_holds_takes_the_next() {
    for version in 1..40 {
        let (size, _, _) = component(&payload(CAPACITY[version - 1] + 1), None);
        assert_eq!(size, 17 + 4 * (version + 1), "after version {version}");
    }
    assert!(encode_qr(&payload(CAPACITY[39] + 1), None).is_none());
}
