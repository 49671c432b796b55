//! Decoding one Arrow column of a record batch: embedding lists straight into rows of the
//! contiguous `f32` buffer, and text or integer columns into strings.
//!
//! Writers disagree on shapes (see `docs/dataset-format.md`): `list`, `large_list` and — only
//! through the embedded Arrow schema — `fixed_size_list`, of f16, f32 or f64, and `utf8` or
//! `large_utf8` strings. All of them are accepted.

use arrow_array::cast::AsArray;
use arrow_array::types::{Float16Type, Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, OffsetSizeTrait};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;

/// The float width of an embedding column's elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Float {
    F16,
    F32,
    F64,
}

/// What a column's Arrow type lets it be used as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A list of floats; `fixed` is the length a `fixed_size_list` declares.
    Embedding {
        float: Float,
        fixed: Option<usize>,
    },
    /// A list whose elements are not floats (e.g. `list<int64>`): never an embedding.
    OtherList(String),
    Text,
    Integer,
    Other(String),
}

impl Kind {
    pub fn of(dt: &DataType) -> Kind {
        match dt {
            DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) => {
                match float_of(f.data_type()) {
                    Some(float) => Kind::Embedding { float, fixed: None },
                    None => Kind::OtherList(dt.to_string()),
                }
            }
            DataType::FixedSizeList(f, n) => match float_of(f.data_type()) {
                Some(float) => Kind::Embedding {
                    float,
                    fixed: Some(*n as usize),
                },
                None => Kind::OtherList(dt.to_string()),
            },
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Kind::Integer,
            other => Kind::Other(other.to_string()),
        }
    }

    pub fn is_embedding(&self) -> bool {
        matches!(self, Kind::Embedding { .. })
    }

    /// Usable as an id, a label, a description or an image path.
    pub fn is_textual(&self) -> bool {
        matches!(self, Kind::Text | Kind::Integer)
    }
}

fn float_of(dt: &DataType) -> Option<Float> {
    match dt {
        DataType::Float16 => Some(Float::F16),
        DataType::Float32 => Some(Float::F32),
        DataType::Float64 => Some(Float::F64),
        _ => None,
    }
}

/// Why an embedding row cannot be used; rows and elements are 0-based within the batch.
#[derive(Clone, Debug, PartialEq)]
pub enum BadRow {
    Ragged {
        row: usize,
        found: usize,
    },
    NullElement {
        row: usize,
        element: usize,
    },
    NonFinite {
        row: usize,
        element: usize,
        value: f32,
    },
    Zero {
        row: usize,
    },
    NotFloat(String),
}

/// A list column's element values, whatever their width.
enum Values<'a> {
    F16(&'a [half::f16]),
    F32(&'a [f32]),
    F64(&'a [f64]),
}

impl Values<'_> {
    fn of(values: &ArrayRef) -> Result<Values<'_>, BadRow> {
        Ok(match values.data_type() {
            DataType::Float16 => Values::F16(values.as_primitive::<Float16Type>().values()),
            DataType::Float32 => Values::F32(values.as_primitive::<Float32Type>().values()),
            DataType::Float64 => Values::F64(values.as_primitive::<Float64Type>().values()),
            other => return Err(BadRow::NotFloat(other.to_string())),
        })
    }

    fn copy(&self, start: usize, out: &mut [f32]) {
        let end = start + out.len();
        match self {
            Values::F32(v) => out.copy_from_slice(&v[start..end]),
            Values::F16(v) => {
                for (o, x) in out.iter_mut().zip(&v[start..end]) {
                    *o = x.to_f32();
                }
            }
            Values::F64(v) => {
                for (o, x) in out.iter_mut().zip(&v[start..end]) {
                    *o = *x as f32;
                }
            }
        }
    }
}

/// Where each row's elements sit in the values array, and which rows are null.
struct Layout<'a> {
    rows: usize,
    /// `start, end` of row `i`.
    range: Box<dyn Fn(usize) -> (usize, usize) + 'a>,
    nulls: Option<&'a NullBuffer>,
    /// A fixed-size list: an empty list reads back as a row of null elements.
    fixed: bool,
}

fn layout_of(array: &dyn Array) -> Option<(Layout<'_>, &ArrayRef)> {
    fn variable<O: OffsetSizeTrait>(
        list: &arrow_array::GenericListArray<O>,
    ) -> (Layout<'_>, &ArrayRef) {
        let offsets = list.value_offsets();
        let layout = Layout {
            rows: list.len(),
            range: Box::new(move |i| (offsets[i].as_usize(), offsets[i + 1].as_usize())),
            nulls: list.nulls(),
            fixed: false,
        };
        (layout, list.values())
    }
    match array.data_type() {
        DataType::List(_) => Some(variable(array.as_list::<i32>())),
        DataType::LargeList(_) => Some(variable(array.as_list::<i64>())),
        DataType::FixedSizeList(_, n) => {
            let list = array.as_fixed_size_list();
            let n = *n as usize;
            let layout = Layout {
                rows: list.len(),
                range: Box::new(move |i| (i * n, (i + 1) * n)),
                nulls: list.nulls(),
                fixed: true,
            };
            Some((layout, list.values()))
        }
        _ => None,
    }
}

/// Copy the rows of the list column `array` into `out` (`array.len() × d`, row-major), and
/// set `present[i]` for each row that has a vector. A null or empty row is a missing view:
/// its row of `out` is left as it is (zero) and `present[i]` false.
pub fn decode_embeddings(
    array: &dyn Array,
    d: usize,
    out: &mut [f32],
    present: &mut [bool],
) -> Result<(), BadRow> {
    let Some((layout, values)) = layout_of(array) else {
        return Err(BadRow::NotFloat(array.data_type().to_string()));
    };
    let vals = Values::of(values)?;
    let value_nulls = values.nulls().filter(|n| n.null_count() > 0);
    let row_nulls = layout.nulls.filter(|n| n.null_count() > 0);
    for i in 0..layout.rows {
        if row_nulls.is_some_and(|n| n.is_null(i)) {
            present[i] = false;
            continue;
        }
        let (start, end) = (layout.range)(i);
        let len = end - start;
        if len == 0 {
            present[i] = false;
            continue;
        }
        if let Some(nulls) = value_nulls {
            let null_count = (start..end).filter(|&j| nulls.is_null(j)).count();
            // The fixed-size-list trap: an empty list is written as a valid row of nulls.
            if layout.fixed && null_count == len {
                present[i] = false;
                continue;
            }
            if null_count > 0 {
                let element = (start..end).position(|j| nulls.is_null(j)).unwrap_or(0);
                return Err(BadRow::NullElement { row: i, element });
            }
        }
        if len != d {
            return Err(BadRow::Ragged { row: i, found: len });
        }
        let row = &mut out[i * d..(i + 1) * d];
        vals.copy(start, row);
        if let Some(element) = row.iter().position(|v| !v.is_finite()) {
            return Err(BadRow::NonFinite {
                row: i,
                element,
                value: row[element],
            });
        }
        if row.iter().all(|&v| v == 0.0) {
            return Err(BadRow::Zero { row: i });
        }
        present[i] = true;
    }
    Ok(())
}

/// The length of the first row that has a vector, if any row of `array` has one.
pub fn first_length(array: &dyn Array) -> Option<usize> {
    let (layout, values) = layout_of(array)?;
    let value_nulls = values.nulls().filter(|n| n.null_count() > 0);
    (0..layout.rows).find_map(|i| {
        if layout.nulls.is_some_and(|n| n.is_null(i)) {
            return None;
        }
        let (start, end) = (layout.range)(i);
        let all_null =
            layout.fixed && value_nulls.is_some_and(|n| (start..end).all(|j| n.is_null(j)));
        (end > start && !all_null).then_some(end - start)
    })
}

/// The values of a text or integer column as strings (`None` for nulls).
pub fn strings(array: &dyn Array) -> Result<Vec<Option<String>>, String> {
    fn collect<'a>(it: impl Iterator<Item = Option<&'a str>>) -> Vec<Option<String>> {
        it.map(|v| v.map(str::to_string)).collect()
    }
    fn ints<T: arrow_array::ArrowPrimitiveType>(array: &dyn Array) -> Vec<Option<String>>
    where
        T::Native: ToString,
    {
        array
            .as_primitive::<T>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect()
    }
    use arrow_array::types::*;
    Ok(match array.data_type() {
        DataType::Utf8 => collect(array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => collect(array.as_string::<i64>().iter()),
        DataType::Utf8View => collect(array.as_string_view().iter()),
        DataType::Int8 => ints::<Int8Type>(array),
        DataType::Int16 => ints::<Int16Type>(array),
        DataType::Int32 => ints::<Int32Type>(array),
        DataType::Int64 => ints::<Int64Type>(array),
        DataType::UInt8 => ints::<UInt8Type>(array),
        DataType::UInt16 => ints::<UInt16Type>(array),
        DataType::UInt32 => ints::<UInt32Type>(array),
        DataType::UInt64 => ints::<UInt64Type>(array),
        other => return Err(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{FixedSizeListBuilder, Float32Builder, ListBuilder};
    use arrow_array::{FixedSizeListArray, Float64Array, LargeListArray};
    use arrow_schema::Field;

    use super::*;

    fn list(rows: &[Option<Vec<Option<f32>>>]) -> ArrayRef {
        let mut b = ListBuilder::new(Float32Builder::new());
        for r in rows {
            match r {
                Some(vals) => {
                    for v in vals {
                        b.values().append_option(*v);
                    }
                    b.append(true);
                }
                None => b.append(false),
            }
        }
        Arc::new(b.finish())
    }

    fn decode(a: &dyn Array, d: usize) -> Result<(Vec<f32>, Vec<bool>), BadRow> {
        let mut out = vec![0.0; a.len() * d];
        let mut present = vec![false; a.len()];
        decode_embeddings(a, d, &mut out, &mut present)?;
        Ok((out, present))
    }

    #[test]
    fn null_and_empty_rows_are_missing_views() {
        let a = list(&[
            Some(vec![Some(1.0), Some(2.0)]),
            None,
            Some(vec![]),
            Some(vec![Some(3.0), Some(-4.0)]),
        ]);
        let (out, present) = decode(&a, 2).unwrap();
        assert_eq!(present, [true, false, false, true]);
        assert_eq!(out, [1.0, 2.0, 0.0, 0.0, 0.0, 0.0, 3.0, -4.0]);
        assert_eq!(first_length(&a), Some(2));
    }

    #[test]
    fn bad_rows_are_named_by_row_and_element() {
        let ragged = list(&[Some(vec![Some(1.0), Some(2.0)]), Some(vec![Some(1.0)])]);
        assert_eq!(
            decode(&ragged, 2).unwrap_err(),
            BadRow::Ragged { row: 1, found: 1 }
        );
        let null = list(&[Some(vec![Some(1.0), None])]);
        assert_eq!(
            decode(&null, 2).unwrap_err(),
            BadRow::NullElement { row: 0, element: 1 }
        );
        let nan = list(&[Some(vec![Some(1.0), Some(f32::NAN)])]);
        assert!(matches!(
            decode(&nan, 2).unwrap_err(),
            BadRow::NonFinite {
                row: 0,
                element: 1,
                ..
            }
        ));
        let zero = list(&[Some(vec![Some(1.0), Some(0.0)]), Some(vec![Some(0.0); 2])]);
        assert_eq!(decode(&zero, 2).unwrap_err(), BadRow::Zero { row: 1 });
    }

    #[test]
    fn a_fixed_size_row_of_nulls_is_an_empty_row_not_zeros() {
        let mut b = FixedSizeListBuilder::new(Float32Builder::new(), 2);
        b.values().append_value(1.0);
        b.values().append_value(2.0);
        b.append(true);
        b.values().append_null();
        b.values().append_null();
        b.append(true);
        b.values().append_null();
        b.values().append_null();
        b.append(false);
        let a: FixedSizeListArray = b.finish();
        let (out, present) = decode(&a, 2).unwrap();
        assert_eq!(present, [true, false, false]);
        assert_eq!(&out[..2], [1.0, 2.0]);
    }

    #[test]
    fn large_lists_of_doubles_convert_to_f32() {
        let values = Arc::new(Float64Array::from(vec![0.5, 1.5, 2.5, 3.5]));
        let offsets = arrow_buffer::OffsetBuffer::new(vec![0i64, 2, 4].into());
        let field = Arc::new(Field::new("item", DataType::Float64, true));
        let a = LargeListArray::new(field, offsets, values, None);
        assert_eq!(decode(&a, 2).unwrap().0, [0.5, 1.5, 2.5, 3.5]);
    }

    #[test]
    fn kinds_from_arrow_types() {
        let item = |dt| Arc::new(Field::new("element", dt, true));
        assert_eq!(
            Kind::of(&DataType::LargeList(item(DataType::Float16))),
            Kind::Embedding {
                float: Float::F16,
                fixed: None
            }
        );
        assert!(matches!(
            Kind::of(&DataType::List(item(DataType::Int64))),
            Kind::OtherList(_)
        ));
        assert_eq!(Kind::of(&DataType::LargeUtf8), Kind::Text);
        assert_eq!(Kind::of(&DataType::UInt32), Kind::Integer);
    }
}
