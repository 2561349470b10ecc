// Splits UTF-8 text into the tokens Python's str.split() gives after
// bytes.decode("utf-8", errors="replace"), without decoding: tokens stay bytes.
//
// - Bad bytes become U+FFFD (EF BF BD) one per "maximal subpart" of an ill-formed sequence,
//   as CPython's decoder replaces them (Unicode's recommended practice).
// - Whitespace is every code point str.isspace() accepts (ASCII and Unicode spaces, U+0085,
//   U+2028, ...); '\n' also ends a line, and nothing else does (open(newline="\n")).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace wordembed::corpus {

// str.isspace() for ASCII: \t \n \v \f \r, the separators 0x1c-0x1f, and space.
inline bool is_ascii_space(unsigned char c) {
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
}

// str.isspace() beyond ASCII (Python 3.11-3.13; tests/text/test_corpus_pipeline.py checks the list).
inline bool is_unicode_space(uint32_t cp) {
  return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

// The well-formed UTF-8 sequence at p (p < end, *p >= 0x80): its length, and its code point in
// *cp; or 0 if it is ill-formed, with the length of its maximal subpart (the bytes that one
// U+FFFD replaces) in *bad.
inline int decode_utf8(const unsigned char* p, const unsigned char* end, uint32_t* cp, int* bad) {
  const unsigned char c = p[0];
  int n;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c == 0xe0) n = 3, lo = 0xa0;
  else if (c >= 0xe1 && c <= 0xef) n = 3, hi = (c == 0xed) ? 0x9f : 0xbf;  // ED: no surrogates
  else if (c == 0xf0) n = 4, lo = 0x90;
  else if (c >= 0xf1 && c <= 0xf4) n = 4, hi = (c == 0xf4) ? 0x8f : 0xbf;  // F4: up to U+10FFFF
  else { *bad = 1; return 0; }  // a continuation byte, C0, C1 or F5-FF: never a lead byte
  int i = 1;
  for (; i < n && p + i < end; ++i) {
    const unsigned char b = p[i];
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf)) break;
  }
  if (i < n) { *bad = i; return 0; }  // cut short by a bad byte or by the end of the text
  uint32_t v = c & (0x7f >> n);
  for (int k = 1; k < n; ++k) v = (v << 6) | (p[k] & 0x3f);
  *cp = v;
  return n;
}

// Calls on_token(const char* bytes, size_t length) for each token of [begin, end) and
// on_line_end() for each '\n', in text order. The text must not cut a character: it starts at
// the file's start or after an ASCII whitespace byte, and ends at the file's end or after one.
// A token holding bad bytes is handed over from `scratch`, with the replacements made.
template <class OnToken, class OnLineEnd>
void scan_tokens(const char* begin, const char* end, std::string& scratch, OnToken&& on_token,
                 OnLineEnd&& on_line_end) {
  const auto* p = reinterpret_cast<const unsigned char*>(begin);
  const auto* stop = reinterpret_cast<const unsigned char*>(end);
  const unsigned char* token = nullptr;  // where the token being read starts; null between tokens
  bool repaired = false;                 // the token is being built in scratch
  auto finish = [&](const unsigned char* at) {
    if (token == nullptr) return;
    if (repaired) {
      scratch.append(reinterpret_cast<const char*>(token), at - token);
      on_token(scratch.data(), scratch.size());
    } else {
      on_token(reinterpret_cast<const char*>(token), static_cast<size_t>(at - token));
    }
    token = nullptr;
  };
  while (p < stop) {
    const unsigned char c = *p;
    if (c < 0x80) {
      if (is_ascii_space(c)) {
        finish(p);
        if (c == '\n') on_line_end();
      } else if (token == nullptr) {
        token = p, repaired = false;
      }
      ++p;
      continue;
    }
    uint32_t cp = 0;
    int bad = 0;
    const int n = decode_utf8(p, stop, &cp, &bad);
    if (n > 0 && is_unicode_space(cp)) {
      finish(p);
      p += n;
      continue;
    }
    if (token == nullptr) token = p, repaired = false;
    if (n > 0) {
      p += n;
      continue;
    }
    // Ill-formed: what came before goes to scratch as it is, then one U+FFFD for the subpart.
    if (!repaired) scratch.clear(), repaired = true;
    scratch.append(reinterpret_cast<const char*>(token), p - token);
    scratch.append("\xef\xbf\xbd", 3);
    p += bad;
    token = p;  // the token goes on from here, still repaired
  }
  finish(p);
}

}  // namespace wordembed::corpus
