//! zstd compression with one compression and one decompression context per thread:
//! building a context costs more than compressing a typical mail body.

use std::cell::RefCell;
use std::io;
use zstd::bulk::{Compressor, Decompressor};

/// zstd's default level: about 3× on mail text at several hundred MB/s per core.
pub(crate) const ZSTD_LEVEL: i32 = 3;

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

pub(crate) fn compress(data: &[u8]) -> io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(Compressor::new(ZSTD_LEVEL)?),
        };
        compressor.compress(data)
    })
}

/// Decompresses `data`, which must expand to at most `capacity` bytes.
pub(crate) fn decompress(data: &[u8], capacity: usize) -> io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(Decompressor::new()?),
        };
        decompressor.decompress(data, capacity)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip_and_capacity_is_enforced() {
        let text = b"mail text mail text mail text".repeat(100);
        let packed = super::compress(&text).unwrap();
        assert!(packed.len() < text.len() / 5);
        assert_eq!(super::decompress(&packed, text.len()).unwrap(), text);
        assert!(super::decompress(&packed, 10).is_err());
    }
}
