//! One `(rows, dims)` float array from a `.npy` file, read straight into a C-order `f32` buffer.
//!
//! ndarray-npy parses the header; the data is read here because ndarray-npy would first
//! materialise float64 or Fortran-order data in its own layout and then need a second,
//! converted copy — and peak memory is the constraint that matters for large catalogues.
//! C-order data is read in row chunks in parallel (positional reads) and each chunk is
//! validated while it is still in cache.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek};
use std::path::{Path, PathBuf};

use ndarray::Array2;
use ndarray_npy::npy::header::{Header, ReadHeaderError};
use rayon::prelude::*;

use super::LoadError;
use crate::{DatasetError, Monitor};

/// About this many bytes of file are read, converted and checked per task.
const CHUNK_BYTES: usize = 1 << 20;

/// Fortran-order data is read in blocks of whole columns of about this size; at least
/// `MIN_BLOCK_COLS` columns, so that each row's share of a block fills a cache line.
const FORTRAN_BLOCK_BYTES: usize = 8 << 20;
const MIN_BLOCK_COLS: usize = 16;

const MAGIC: &[u8] = b"\x93NUMPY";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Float {
    F16,
    F32,
    F64,
}

/// The element type of a supported file: a float width and its byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Elem {
    float: Float,
    big_endian: bool,
}

impl Elem {
    /// float32 in this machine's byte order: the bytes can be read straight into the buffer.
    fn is_native_f32(self) -> bool {
        self.float == Float::F32 && self.big_endian == cfg!(target_endian = "big")
    }

    fn size(self) -> usize {
        match self.float {
            Float::F16 => 2,
            Float::F32 => 4,
            Float::F64 => 8,
        }
    }

    /// Convert `out.len()` elements from `bytes` (exactly `out.len() * size` long).
    fn decode(self, bytes: &[u8], out: &mut [f32]) {
        let big = self.big_endian;
        match self.float {
            Float::F32 => {
                for (o, b) in out.iter_mut().zip(bytes.as_chunks::<4>().0) {
                    *o = if big {
                        f32::from_be_bytes(*b)
                    } else {
                        f32::from_le_bytes(*b)
                    };
                }
            }
            Float::F64 => {
                for (o, b) in out.iter_mut().zip(bytes.as_chunks::<8>().0) {
                    let v = if big {
                        f64::from_be_bytes(*b)
                    } else {
                        f64::from_le_bytes(*b)
                    };
                    *o = v as f32;
                }
            }
            Float::F16 => {
                for (o, b) in out.iter_mut().zip(bytes.as_chunks::<2>().0) {
                    let bits = if big {
                        u16::from_be_bytes(*b)
                    } else {
                        u16::from_le_bytes(*b)
                    };
                    *o = half::f16::from_bits(bits).to_f32();
                }
            }
        }
    }
}

/// An opened `.npy` file whose header has been checked; the data is not read yet.
#[derive(Debug)]
pub(super) struct NpyFile {
    path: PathBuf,
    file: File,
    data_offset: u64,
    pub rows: usize,
    pub cols: usize,
    elem: Elem,
    fortran: bool,
}

/// The first row of an array that cannot be used, in file order.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BadRow {
    /// 0-based row and column of the first non-finite value.
    NonFinite { row: usize, col: usize, value: f32 },
    /// 0-based row whose values are all zero.
    Zero { row: usize },
}

impl BadRow {
    fn shifted(self, by: usize) -> BadRow {
        match self {
            BadRow::NonFinite { row, col, value } => BadRow::NonFinite {
                row: row + by,
                col,
                value,
            },
            BadRow::Zero { row } => BadRow::Zero { row: row + by },
        }
    }

    fn into_error(self, path: &Path) -> DatasetError {
        let path = path.to_path_buf();
        match self {
            BadRow::NonFinite { row, col, value } => DatasetError::NonFinite {
                path,
                row: row + 1,
                column: col + 1,
                value,
            },
            BadRow::Zero { row } => DatasetError::ZeroRow { path, row: row + 1 },
        }
    }
}

/// Open `path` and check its header: magic, a float dtype, two dimensions, and a file length
/// that matches the shape exactly.
pub(super) fn open(path: &Path) -> Result<NpyFile, DatasetError> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| DatasetError::io(path, e))?
        .len();
    let mut reader = BufReader::new(&file);
    let start = reader.fill_buf().map_err(|e| DatasetError::io(path, e))?;
    if !start.starts_with(MAGIC) {
        return Err(DatasetError::NotNpy {
            path: path.to_path_buf(),
            reason: "it does not start with the .npy magic string \\x93NUMPY".into(),
        });
    }
    let header = Header::from_reader(&mut reader).map_err(|e| match e {
        ReadHeaderError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            DatasetError::TruncatedHeader {
                path: path.to_path_buf(),
                len: file_len,
            }
        }
        ReadHeaderError::Io(io) => DatasetError::io(path, io),
        ReadHeaderError::Parse(p) => DatasetError::NotNpy {
            path: path.to_path_buf(),
            reason: format!("its header is malformed: {p}"),
        },
    })?;
    let data_offset = reader
        .stream_position()
        .map_err(|e| DatasetError::io(path, e))?;
    drop(reader);

    let elem = parse_dtype(&header).ok_or_else(|| DatasetError::WrongDtype {
        path: path.to_path_buf(),
        found: describe_dtype(&header),
    })?;
    let (rows, cols) = match header.shape[..] {
        [rows, cols] if cols > 0 => (rows, cols),
        _ => {
            return Err(DatasetError::WrongShape {
                path: path.to_path_buf(),
                found: describe_shape(&header.shape),
            });
        }
    };
    let expected = (rows as u64)
        .checked_mul(cols as u64)
        .and_then(|n| n.checked_mul(elem.size() as u64))
        .ok_or_else(|| DatasetError::WrongShape {
            path: path.to_path_buf(),
            found: format!("{} (too large to address)", describe_shape(&header.shape)),
        })?;
    let found = file_len.saturating_sub(data_offset);
    if found < expected {
        return Err(DatasetError::Truncated {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(DatasetError::TrailingBytes {
            path: path.to_path_buf(),
            expected,
            extra: found - expected,
        });
    }
    Ok(NpyFile {
        path: path.to_path_buf(),
        file,
        data_offset,
        rows,
        cols,
        elem,
        fortran: header.layout.is_fortran(),
    })
}

fn parse_dtype(header: &Header) -> Option<Elem> {
    let descr = header.type_descriptor.as_string()?;
    let (order, code) = descr.split_at_checked(1)?;
    let big_endian = match order {
        "<" => false,
        ">" => true,
        "=" => cfg!(target_endian = "big"),
        _ => return None,
    };
    let float = match code {
        "f2" | "e" => Float::F16,
        "f4" | "f" => Float::F32,
        "f8" | "d" => Float::F64,
        _ => return None,
    };
    Some(Elem { float, big_endian })
}

/// A NumPy-style name for the dtype in `header`, for error messages.
fn describe_dtype(header: &Header) -> String {
    let Some(descr) = header.type_descriptor.as_string() else {
        return format!("a structured dtype ({})", header.type_descriptor);
    };
    let code = descr.trim_start_matches(['<', '>', '=', '|']);
    let (kind, width) = code.split_at_checked(1).unwrap_or((code, ""));
    let bits = width.parse::<u32>().ok().map(|w| w * 8);
    let name = match (kind, bits) {
        ("f", Some(b)) => format!("float{b}"),
        ("i", Some(b)) => format!("int{b}"),
        ("u", Some(b)) => format!("uint{b}"),
        ("c", Some(b)) => format!("complex{b}"),
        ("b", _) => "bool".to_string(),
        ("U", _) => "a unicode string".to_string(),
        ("S", _) => "a byte string".to_string(),
        ("O", _) => "object".to_string(),
        _ => "an unsupported type".to_string(),
    };
    format!("{name} (`{descr}`)")
}

fn describe_shape(shape: &[usize]) -> String {
    match shape {
        [only] => format!("({only},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

impl NpyFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Read, convert and validate the data, advancing `monitor` by rows.
    pub fn read(self, monitor: &Monitor) -> Result<Array2<f32>, LoadError> {
        self.read_masked(monitor, None)
    }

    /// `read`, where rows with `present[row] == false` are missing views: they are not
    /// checked and come back as zeros.
    pub fn read_masked(
        self,
        monitor: &Monitor,
        present: Option<&[bool]>,
    ) -> Result<Array2<f32>, LoadError> {
        let mut out = zeroed_buffer(self.rows * self.cols);
        if self.fortran {
            self.read_fortran(&mut out, monitor, FORTRAN_BLOCK_BYTES)?;
            if let Some(bad) = first_bad_row_parallel(&mut out, self.cols, present) {
                return Err(bad.into_error(&self.path).into());
            }
        } else {
            self.read_c_order(&mut out, monitor, present)?;
        }
        Array2::from_shape_vec((self.rows, self.cols), out).map_err(|e| {
            // Unreachable by construction (the buffer is rows × cols); kept as an error, not a panic.
            LoadError::Invalid(DatasetError::file(&self.path, format!("{e}.")))
        })
    }

    fn rows_per_chunk(&self) -> usize {
        (CHUNK_BYTES / (self.cols * self.elem.size())).max(1)
    }

    fn read_c_order(
        &self,
        out: &mut [f32],
        monitor: &Monitor,
        present: Option<&[bool]>,
    ) -> Result<(), LoadError> {
        if out.is_empty() {
            return Ok(());
        }
        let rows_per_chunk = self.rows_per_chunk();
        let row_bytes = (self.cols * self.elem.size()) as u64;
        let outcomes: Vec<Result<Option<BadRow>, LoadError>> = out
            .par_chunks_mut(rows_per_chunk * self.cols)
            .enumerate()
            .map_init(Vec::new, |buf: &mut Vec<u8>, (k, chunk)| {
                monitor.check()?;
                let first_row = k * rows_per_chunk;
                let offset = self.data_offset + first_row as u64 * row_bytes;
                let read = if self.elem.is_native_f32() {
                    read_exact_at(&self.file, bytemuck::cast_slice_mut(chunk), offset)
                } else {
                    buf.resize(chunk.len() * self.elem.size(), 0);
                    let read = read_exact_at(&self.file, buf, offset);
                    self.elem.decode(buf, chunk);
                    read
                };
                read.map_err(|e| DatasetError::io(&self.path, e))?;
                let rows = chunk.len() / self.cols;
                monitor.advance(rows as u64);
                let mask = present.map(|p| &p[first_row..first_row + rows]);
                Ok(first_bad_row(chunk, self.cols, mask).map(|b| b.shifted(first_row)))
            })
            .collect();
        // Chunks come back in file order, so the first problem found is the first in the file.
        for outcome in outcomes {
            if let Some(bad) = outcome? {
                return Err(bad.into_error(&self.path).into());
            }
        }
        Ok(())
    }

    /// Fortran order stores columns contiguously: read blocks of whole columns and scatter
    /// them into the row-major buffer, rows in parallel.
    fn read_fortran(
        &self,
        out: &mut [f32],
        monitor: &Monitor,
        block_bytes: usize,
    ) -> Result<(), LoadError> {
        let (rows, cols, size) = (self.rows, self.cols, self.elem.size());
        if rows == 0 {
            return Ok(());
        }
        let cols_per_block = (block_bytes / (rows * size)).max(MIN_BLOCK_COLS);
        let rows_per_chunk = self.rows_per_chunk();
        let mut bytes = Vec::new();
        let mut block = Vec::new();
        let mut rows_reported = 0;
        for first_col in (0..cols).step_by(cols_per_block) {
            monitor.check()?;
            let width = cols_per_block.min(cols - first_col);
            bytes.resize(width * rows * size, 0);
            block.resize(width * rows, 0f32);
            let offset = self.data_offset + (first_col * rows * size) as u64;
            read_exact_at(&self.file, &mut bytes, offset)
                .map_err(|e| DatasetError::io(&self.path, e))?;
            block
                .par_chunks_mut(rows)
                .zip(bytes.par_chunks(rows * size))
                .for_each(|(column, b)| self.elem.decode(b, column));
            out.par_chunks_mut(rows_per_chunk * cols)
                .enumerate()
                .for_each(|(k, out_rows)| {
                    let first_row = k * rows_per_chunk;
                    for (r, out_row) in out_rows.chunks_exact_mut(cols).enumerate() {
                        let i = first_row + r;
                        let dst = &mut out_row[first_col..first_col + width];
                        for (jj, d) in dst.iter_mut().enumerate() {
                            *d = block[jj * rows + i];
                        }
                    }
                });
            // Progress is counted in rows; a column block is that share of all rows.
            let rows_done = (first_col + width) * rows / cols;
            monitor.advance((rows_done - rows_reported) as u64);
            rows_reported = rows_done;
        }
        Ok(())
    }
}

/// A zeroed buffer for an embedding array. On Linux the kernel is asked to back it with huge
/// pages: filling 150 MB of fresh 4 KiB pages cost more in page faults than the reading itself.
pub(super) fn zeroed_buffer(len: usize) -> Vec<f32> {
    let buffer = vec![0f32; len];
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = buffer.as_ptr() as usize;
        let end = start + std::mem::size_of_val(buffer.as_slice());
        // madvise wants a page-aligned start; the allocator's header makes ours slightly off.
        let aligned = start.next_multiple_of(PAGE);
        if end.saturating_sub(aligned) >= 4 << 20 {
            // SAFETY: madvise only advises the kernel how to back pages inside a range this Vec
            // owns; it changes neither their contents nor their validity. Failure is harmless.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    buffer
}

/// The first row (in `chunk`) with a non-finite value or with only zeros, skipping (and
/// zeroing) the rows that `present` marks as missing views.
fn first_bad_row(chunk: &mut [f32], cols: usize, present: Option<&[bool]>) -> Option<BadRow> {
    for (r, row) in chunk.chunks_exact_mut(cols).enumerate() {
        if present.is_some_and(|p| !p[r]) {
            row.fill(0.0);
            continue;
        }
        // The largest magnitude, compared as bits: ≥ the infinity pattern means a NaN or an
        // infinity, 0 means all zeros. A branch-free max vectorises; the exact place is only
        // looked for in a row already known to be bad.
        let magnitude_bits = row
            .iter()
            .fold(0u32, |acc, v| acc.max(v.to_bits() & 0x7fff_ffff));
        if magnitude_bits >= f32::INFINITY.to_bits() {
            let col = row.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Some(BadRow::NonFinite {
                row: r,
                col,
                value: row[col],
            });
        }
        if magnitude_bits == 0 {
            return Some(BadRow::Zero { row: r });
        }
    }
    None
}

fn first_bad_row_parallel(
    data: &mut [f32],
    cols: usize,
    present: Option<&[bool]>,
) -> Option<BadRow> {
    let rows_per_chunk = (CHUNK_BYTES / (cols * 4)).max(1);
    data.par_chunks_mut(rows_per_chunk * cols)
        .enumerate()
        .filter_map(|(k, chunk)| {
            let first = k * rows_per_chunk;
            let mask = present.map(|p| &p[first..first + chunk.len() / cols]);
            first_bad_row(chunk, cols, mask).map(|b| b.shifted(first))
        })
        .find_first(|_| true)
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bad_row_finds_the_first_problem_in_row_order() {
        let cols = 3;
        let mut data = [
            1.0,
            0.0,
            0.0, //
            0.0,
            -0.0,
            0.0, // all zero (a negative zero is still zero)
            0.0,
            f32::NAN,
            1.0,
        ];
        assert_eq!(
            first_bad_row(&mut data, cols, None),
            Some(BadRow::Zero { row: 1 })
        );
        let bad = first_bad_row(&mut data[6..], cols, None);
        assert!(matches!(bad, Some(BadRow::NonFinite { row: 0, col: 1, value }) if value.is_nan()));
        // Rows marked as missing views are skipped (and zeroed).
        let bad = first_bad_row(&mut data, cols, Some(&[true, false, false]));
        assert_eq!(bad, None);
        assert!(data[6..].iter().all(|&v| v == 0.0));
        let mut inf = [1.0, 2.0, f32::NEG_INFINITY];
        assert_eq!(
            first_bad_row(&mut inf, 3, None),
            Some(BadRow::NonFinite {
                row: 0,
                col: 2,
                value: f32::NEG_INFINITY
            })
        );
        assert_eq!(
            first_bad_row(&mut [1e-45, 0.0, 0.0], 3, None),
            None,
            "a subnormal is not zero"
        );
    }

    /// A C- or Fortran-order float32 file of `rows × cols` values `0, 1, 2, …` (row-major).
    fn write_f32(dir: &Path, rows: usize, cols: usize, fortran: bool) -> PathBuf {
        let mut data = Vec::new();
        let index = |i: usize, j: usize| (i * cols + j) as f32 + 1.0;
        if fortran {
            for j in 0..cols {
                for i in 0..rows {
                    data.extend_from_slice(&index(i, j).to_le_bytes());
                }
            }
        } else {
            for i in 0..rows {
                for j in 0..cols {
                    data.extend_from_slice(&index(i, j).to_le_bytes());
                }
            }
        }
        let order = if fortran { "True" } else { "False" };
        let mut dict =
            format!("{{'descr': '<f4', 'fortran_order': {order}, 'shape': ({rows}, {cols}), }}");
        while (10 + dict.len() + 1) % 64 != 0 {
            dict.push(' ');
        }
        dict.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(&data);
        let path = dir.join(if fortran { "f.npy" } else { "c.npy" });
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn both_layouts_read_row_major_with_progress_to_every_row() {
        let dir = tempfile::tempdir().unwrap();
        // Wider than one Fortran block and longer than one C chunk.
        let (rows, cols) = (700, 410);
        for fortran in [false, true] {
            let path = write_f32(dir.path(), rows, cols, fortran);
            let monitor = Monitor::new();
            let a = open(&path).unwrap().read(&monitor).unwrap();
            assert!(a.is_standard_layout());
            assert_eq!(a.dim(), (rows, cols));
            assert_eq!(a[[0, 1]], 2.0);
            assert_eq!(a[[699, 409]], (rows * cols) as f32, "fortran {fortran}");
            assert_eq!(a[[3, 17]], (3 * cols + 17) as f32 + 1.0);
            assert_eq!(monitor.sample().done, rows as u64, "fortran {fortran}");
        }
        // Many narrow column blocks, the last one partial (410 = 25 × 16 + 10), reassemble the same.
        let file = open(&write_f32(dir.path(), rows, cols, true)).unwrap();
        let monitor = Monitor::new();
        let mut out = vec![0f32; rows * cols];
        file.read_fortran(&mut out, &monitor, 1).unwrap();
        let expected: Vec<f32> = (1..=rows * cols).map(|v| v as f32).collect();
        assert_eq!(out, expected);
        assert_eq!(monitor.sample().done, rows as u64);
    }

    #[test]
    fn a_cancelled_monitor_stops_the_read() {
        let dir = tempfile::tempdir().unwrap();
        for fortran in [false, true] {
            let path = write_f32(dir.path(), 50, 8, fortran);
            let monitor = Monitor::new();
            monitor.cancel();
            let result = open(&path).unwrap().read(&monitor);
            assert!(matches!(result, Err(LoadError::Cancelled(_))));
        }
    }

    #[test]
    fn decode_handles_every_width_and_byte_order() {
        let values = [1.5f32, -2.25, 0.0];
        let mut out = [0f32; 3];
        let le16: Vec<u8> = values
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_bits().to_le_bytes())
            .collect();
        Elem {
            float: Float::F16,
            big_endian: false,
        }
        .decode(&le16, &mut out);
        assert_eq!(out, values);
        let be64: Vec<u8> = values
            .iter()
            .flat_map(|&v| f64::from(v).to_be_bytes())
            .collect();
        Elem {
            float: Float::F64,
            big_endian: true,
        }
        .decode(&be64, &mut out);
        assert_eq!(out, values);
        let be32: Vec<u8> = values.iter().flat_map(|&v| v.to_be_bytes()).collect();
        Elem {
            float: Float::F32,
            big_endian: true,
        }
        .decode(&be32, &mut out);
        assert_eq!(out, values);
    }
}
