/*
 * hardspec guestbook — a stub of ICU's data library, the same kind of library ICU's own build makes
 * from source/stubdata when it is built without data.
 *
 * libxml2 (linked into php-fpm8.2) links libicuuc, and libicuuc links libicudata: 31 MB of
 * converter, locale and collation tables that nothing in the guestbook reads (no intl extension;
 * libxml2 asks ICU only to convert encodings iconv lacks, and the guestbook parses no XML). This
 * library has the same soname and entry point, icudt<version>_dat, with an empty table of
 * contents: libicuuc loads, and any lookup of ICU data fails with U_MISSING_RESOURCE_ERROR instead
 * of succeeding. The Dockerfile installs it over Debian's libicudata after checking the version.
 *
 * Build: cc -ffreestanding -shared -nostdlib -Wl,-soname,libicudata.so.72 -DICU_MAJOR=72 \
 *          -o libicudata.so.72.1 icu-stubdata.c
 */
#include <stdint.h>

#ifndef ICU_MAJOR
#error "define ICU_MAJOR, the ICU major version (72 on Debian 12)"
#endif
#define ENTRY_(v) icudt##v##_dat
#define ENTRY(v) ENTRY_(v)

/* ICU's DataHeader (MappedData + UDataInfo) followed by an empty table of contents. */
struct icu_stub_data {
  uint16_t header_size; /* 32 */
  uint8_t magic1, magic2; /* 0xda, 0x27 */
  struct {
    uint16_t size; /* sizeof the info: 20 */
    uint16_t reserved_word;
    uint8_t is_big_endian, charset_family, sizeof_uchar, reserved_byte;
    uint8_t data_format[4]; /* "ToCP": a table of contents */
    uint8_t format_version[4];
    uint8_t data_version[4];
  } info;
  uint8_t padding[8];
  uint32_t count; /* no entries */
  uint32_t reserved;
  uint32_t toc[4];
};

__attribute__((visibility("default"))) const struct icu_stub_data ENTRY(ICU_MAJOR) = {
  32, 0xda, 0x27,
  {
    20, 0,
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    1,
#else
    0,
#endif
    0 /* ASCII family */, 2 /* sizeof(UChar) */, 0,
    { 0x54, 0x6f, 0x43, 0x50 }, { 1, 0, 0, 0 }, { 0, 0, 0, 0 },
  },
  { 0 }, 0, 0, { 0, 0, 0, 0 },
};

_Static_assert(sizeof(((struct icu_stub_data *)0)->info) == 20, "UDataInfo is 20 bytes");
