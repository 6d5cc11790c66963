//! Payload transcoding between MessagePack and JSON text.

use conduit_realtime::protocol::transcode::{json_to_msgpack, msgpack_to_json};
use conduit_realtime::protocol::ProtocolError;

#[test]
fn json_to_msgpack_uses_the_smallest_encodings() {
    let cases: &[(&str, &[u8])] = &[
        ("[42]", &[0x91, 0x2a]),
        ("[]", &[0x90]),
        ("{}", &[0x80]),
        ("null", &[0xc0]),
        ("true", &[0xc3]),
        ("-1", &[0xff]),
        ("-33", &[0xd0, 0xdf]),
        ("200", &[0xcc, 0xc8]),
        ("70000", &[0xce, 0, 1, 0x11, 0x70]),
        ("18446744073709551615", &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ("1.5", &[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
        ("\"a\\nb\"", &[0xa3, b'a', b'\n', b'b']),
        ("{\"k\": [1, \"v\"]}", &[0x81, 0xa1, b'k', 0x92, 0x01, 0xa1, b'v']),
    ];
    for (json, bytes) in cases {
        assert_eq!(json_to_msgpack(json).unwrap(), *bytes, "{json}");
    }
    let long: String = format!("[{}]", vec!["0"; 20].join(","));
    let packed = json_to_msgpack(&long).unwrap();
    assert_eq!(&packed[..3], &[0xdc, 0, 20]);
    assert_eq!(packed.len(), 23);
}

#[test]
fn msgpack_to_json_and_back_is_stable() {
    let inputs = [
        r#"[1,-2,3.25,"x",true,false,null,{"a":{"b":[]}},[[]],-9223372036854775808,18446744073709551615]"#,
        r#"{"taskId":"t-1","progressPercentage":42,"status":"processing","message":"Step 2 of 5 \u00e9"}"#,
        r#"[0.1,1e300,-0.5,123456789.125]"#,
    ];
    for json in inputs {
        let packed = json_to_msgpack(json).unwrap();
        let back = msgpack_to_json(&packed).unwrap();
        assert_eq!(json_to_msgpack(&back).unwrap(), packed, "{json} -> {back}");
    }
    assert_eq!(msgpack_to_json(&json_to_msgpack("[2.0, 0.1]").unwrap()).unwrap(), "[2,0.1]");
}

#[test]
fn values_without_a_json_equivalent_are_mapped() {
    assert_eq!(msgpack_to_json(&[0xc4, 3, 1, 2, 255]).unwrap(), "[1,2,255]");
    assert_eq!(msgpack_to_json(&[0x82, 0x01, 0xa1, b'x', 0xc3, 0xc0]).unwrap(), r#"{"1":"x","true":null}"#);
    assert_eq!(msgpack_to_json(&[0xd6, 0xff, 0x65, 0x92, 0x00, 0x80]).unwrap(), "\"2024-01-01T00:00:00.000Z\"");
    let nanos_and_secs: u64 = (500_000_000u64 << 34) | 86_400;
    let mut ts8 = vec![0xd7, 0xff];
    ts8.extend(nanos_and_secs.to_be_bytes());
    assert_eq!(msgpack_to_json(&ts8).unwrap(), "\"1970-01-02T00:00:00.500Z\"");
    assert_eq!(msgpack_to_json(&[0xd4, 0x05, 0x00]).unwrap(), "null");
    assert_eq!(msgpack_to_json(&[0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0]).unwrap(), "null");
    assert_eq!(msgpack_to_json(&[0xca, 0x3f, 0xc0, 0, 0]).unwrap(), "1.5");
}

#[test]
fn non_negative_signed_integers_have_no_minus_sign() {
    // Found by the transcode fuzz target: int8 0 came out as "-0".
    assert_eq!(msgpack_to_json(&[0xd0, 0x00]).unwrap(), "0");
    assert_eq!(msgpack_to_json(&[0xd3, 0, 0, 0, 0, 0, 0, 0, 5]).unwrap(), "5");
    assert_eq!(msgpack_to_json(&[0xd0, 0xff]).unwrap(), "-1");
}

#[test]
fn fuzz_regressions_timestamp_keys_and_negative_zero() {
    assert_eq!(msgpack_to_json(&[0x81, 0xd6, 0xff, 0, 0, 0, 0, 0xc0]).unwrap(), r#"{"1970-01-01T00:00:00.000Z":null}"#);
    assert_eq!(msgpack_to_json(&[0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0]).unwrap(), "0");
    assert_eq!(msgpack_to_json(&[0x81, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x01]).unwrap(), r#"{"1.5":1}"#);
    for file in ["int8_zero_minus_zero.bin", "timestamp_map_key_double_quoted.bin", "float64_negative_zero.bin"] {
        let bytes = std::fs::read(format!("{}/fuzz/regressions/transcode/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let json = msgpack_to_json(&bytes).unwrap();
        let again = msgpack_to_json(&json_to_msgpack(&json).unwrap()).unwrap();
        assert_eq!(again, json, "{file}");
    }
}

#[test]
fn bad_input_is_an_error() {
    assert_eq!(msgpack_to_json(&[0x92, 0x01]), Err(ProtocolError::Truncated));
    assert_eq!(msgpack_to_json(&[0x81, 0x90, 0x01]), Err(ProtocolError::WrongType("map key")));
    assert_eq!(msgpack_to_json(&[0x01, 0x02]), Err(ProtocolError::Syntax(1)));
    assert_eq!(msgpack_to_json(&[0xa1, 0xff]), Err(ProtocolError::InvalidUtf8));
    assert_eq!(msgpack_to_json(&vec![0x91; 1000]), Err(ProtocolError::TooDeep));
    assert_eq!(json_to_msgpack("[1,]"), Err(ProtocolError::Syntax(3)));
    assert_eq!(json_to_msgpack(&"[".repeat(10_000)), Err(ProtocolError::TooDeep));
    assert_eq!(json_to_msgpack("1 2"), Err(ProtocolError::Syntax(2)));
}

#[test]
fn numbers_round_trip_through_their_text() {
    use conduit_realtime::protocol::number;
    for (value, text) in [(1.5, "1.5"), (0.1, "0.1"), (-3.0, "-3"), (-0.0, "0"), (f64::NAN, "null")] {
        let mut out = Vec::new();
        number::write_f64(&mut out, value);
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
    assert_eq!(number::parse_f64("-1.25e3"), Some(-1250.0));
}

#[test]
fn number_fast_paths_agree_with_the_standard_library() {
    use conduit_realtime::protocol::number;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..200_000 {
        // Decimal texts of every short shape: integers, fractions, negative, leading zeros.
        let int = next() % 10u64.pow((next() % 10) as u32 + 1);
        let frac_digits = (next() % 8) as usize;
        let frac = next() % 10u64.pow(frac_digits as u32);
        let text = match (i % 3, frac_digits) {
            (_, 0) => format!("{int}"),
            (0, d) => format!("-{int}.{frac:0d$}"),
            (_, d) => format!("{int}.{frac:0d$}"),
        };
        let std: f64 = text.parse().unwrap();
        assert_eq!(number::parse_f64(&text).map(f64::to_bits), Some(std.to_bits()), "{text}");
        // Any double is written as text that reads back as the same double.
        let value = f64::from_bits(next());
        if value.is_finite() {
            for v in [value, std, std / 7.0] {
                let mut out = Vec::new();
                number::write_f64(&mut out, v);
                let written = String::from_utf8(out).unwrap();
                let back: f64 = written.parse().unwrap();
                assert!(back == v || (v == 0.0 && back == 0.0), "{v:?} was written as {written}");
            }
        }
    }
}
