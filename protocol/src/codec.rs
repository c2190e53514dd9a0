//! A bounds-checked reader for the crate's fixed binary encodings. Every read
//! returns an error instead of panicking when the input is short.

use crate::error::{Error, Result};

pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    on_short: Error,
}

impl<'a> Reader<'a> {
    /// `on_short` is the error every read returns when bytes run out.
    pub(crate) fn new(bytes: &'a [u8], on_short: Error) -> Self {
        Self {
            rest: bytes,
            on_short,
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or_else(|| self.on_short.clone())?;
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| self.on_short.clone())
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Fails with `err` unless every byte was consumed.
    pub(crate) fn finish(self, err: Error) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(err)
        }
    }
}
