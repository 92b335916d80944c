//! HTTP/1.x message head parsing for Fiddler's raw `_c.txt` / `_s.txt` files.
//! TODO(capture helper): implement.
