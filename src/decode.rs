//! The browser's own `JSON.parse` output, read into the contract's types
//! through serde. One error, with no message: a shopper cannot act on which
//! field was wrong, and formatting serde's messages (floats included) would
//! cost the bundle more than this whole module.

use std::fmt;

use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use wasm_bindgen::{JsCast, JsValue};

/// A value that does not fit the type it was read into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError;

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value does not fit the contract")
    }
}

impl std::error::Error for DecodeError {}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        DecodeError
    }

    // serde's defaults format a message first; these keep that code out.
    fn invalid_type(_: de::Unexpected, _: &dyn de::Expected) -> Self {
        DecodeError
    }

    fn invalid_value(_: de::Unexpected, _: &dyn de::Expected) -> Self {
        DecodeError
    }

    fn invalid_length(_: usize, _: &dyn de::Expected) -> Self {
        DecodeError
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        DecodeError
    }

    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        DecodeError
    }

    fn missing_field(_: &'static str) -> Self {
        DecodeError
    }

    fn duplicate_field(_: &'static str) -> Self {
        DecodeError
    }
}

/// Reads a parsed JSON value (or any plain JS object) into `T`.
pub fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, DecodeError> {
    T::deserialize(Js(value))
}

/// A JS value as a serde deserializer.
struct Js(JsValue);

impl Js {
    fn string(&self) -> Result<String, DecodeError> {
        self.0.as_string().ok_or(DecodeError)
    }
}

impl<'de> de::Deserializer<'de> for Js {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let value = self.0;
        if let Some(text) = value.as_string() {
            visitor.visit_string(text)
        } else if let Some(number) = value.as_f64() {
            if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER {
                visitor.visit_i64(number as i64)
            } else {
                visitor.visit_f64(number)
            }
        } else if let Some(flag) = value.as_bool() {
            visitor.visit_bool(flag)
        } else if value.is_null() || value.is_undefined() {
            visitor.visit_unit()
        } else if let Some(array) = value.dyn_ref::<js_sys::Array>() {
            visitor.visit_seq(Items {
                items: array.clone(),
                next: 0,
            })
        } else if value.is_object() {
            let keys = js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>());
            visitor.visit_map(Entries {
                object: value,
                keys,
                next: 0,
            })
        } else {
            Err(DecodeError)
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        // The contract's enums travel as their names (unit variants).
        let name: de::value::StringDeserializer<DecodeError> = self.string()?.into_deserializer();
        visitor.visit_enum(name)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// 2^53 - 1: larger JS numbers are not exact integers.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

struct Items {
    items: js_sys::Array,
    next: u32,
}

impl<'de> de::SeqAccess<'de> for Items {
    type Error = DecodeError;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        if self.next >= self.items.length() {
            return Ok(None);
        }
        let item = self.items.get(self.next);
        self.next += 1;
        seed.deserialize(Js(item)).map(Some)
    }
}

struct Entries {
    object: JsValue,
    keys: js_sys::Array,
    next: u32,
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = DecodeError;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        if self.next >= self.keys.length() {
            return Ok(None);
        }
        let key = self.keys.get(self.next);
        seed.deserialize(Js(key)).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let key = self.keys.get(self.next);
        self.next += 1;
        let value = js_sys::Reflect::get(&self.object, &key).map_err(|_| DecodeError)?;
        seed.deserialize(Js(value))
    }
}
