//! Cutting a fuzz input into the pieces a socket might deliver: the first byte says
//! where cuts go, so the same input is replayed with the same cuts.

/// The data (`input` without its first byte) and the data cut into pieces as long as the
/// first byte says (one piece when it is 0).
pub fn cut(input: &[u8]) -> (&[u8], Vec<&[u8]>) {
    let Some((&every, data)) = input.split_first() else {
        return (input, Vec::new());
    };
    let pieces = match every {
        0 => vec![data],
        n => data.chunks(usize::from(n)).collect(),
    };
    (data, pieces)
}
