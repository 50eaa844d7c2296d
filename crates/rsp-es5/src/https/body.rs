//! A one-frame HTTP body whose length is not announced, so hyper sends it with
//! `Transfer-Encoding: chunked` (GP Amendment B: chunked encoding both ways).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame};

/// A body sent in chunked transfer encoding.
#[derive(Debug, Default)]
pub(crate) struct ChunkedBody(Option<Bytes>);

impl ChunkedBody {
    /// A body carrying `data`.
    pub(crate) fn new(data: impl Into<Bytes>) -> ChunkedBody {
        ChunkedBody(Some(data.into()))
    }

    /// A body with no data (the terminating chunk only).
    pub(crate) fn empty() -> ChunkedBody {
        ChunkedBody(None)
    }
}

impl Body for ChunkedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let data = self.get_mut().0.take().filter(|d| !d.is_empty());
        Poll::Ready(data.map(|d| Ok(Frame::data(d))))
    }
}
