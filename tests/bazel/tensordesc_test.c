/* tile_copy_kernel of testdata/kernels.py, whose two arguments are host tensor descriptors,
 * built and linked by the rules for cuda:90 (:tile_copy_tma), run on the recording stand-in
 * libcuda (argv[1]). Each algo's call must encode the tensor maps as Triton's launcher does
 * (dims and box innermost first, byte strides without the innermost, the binary's swizzle,
 * 128-byte L2 promotion, the padding's out-of-bounds fill) and hand the kernel each map, its
 * shape as i32 and its strides; algo 1 (num_ctas 2, launch_pdl) launches a cluster of 2 CTAs
 * per program with programmatic stream serialisation through cuLaunchKernelEx. A base
 * address TMA cannot take is refused with CUDA_ERROR_INVALID_VALUE before anything is
 * encoded or launched. */
#include <cuda.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bazel/standin_session.h"
#include "tests/bazel/tile_copy.h"

#define MAX_LINES 64

/* The log lines after the first `skip`, at most MAX_LINES; returns their number. */
static int log_lines(const char *path, int skip, char lines[MAX_LINES][16384]) {
  FILE *log = fopen(path, "r");
  if (log == NULL) return 0;
  int count = 0, index = 0;
  static char line[16384];
  while (fgets(line, sizeof line, log) != NULL) {
    if (index++ < skip || count == MAX_LINES) continue;
    line[strcspn(line, "\n")] = '\0';
    snprintf(lines[count++], sizeof lines[0], "%s", line);
  }
  fclose(log);
  return count;
}

/* The little-endian integer of `bytes` bytes at hex argument `index` of a launch line. */
static long long launch_arg(const char *line, int index, int bytes) {
  const char *arg = strstr(line, " args=");
  if (arg == NULL) return -1;
  arg += strlen(" args=");
  for (int i = 0; i < index; ++i) {
    arg = strchr(arg, ':');
    if (arg == NULL) return -1;
    ++arg;
  }
  unsigned long long value = 0;
  for (int b = bytes - 1; b >= 0; --b) {
    unsigned int byte;
    if (sscanf(arg + 2 * b, "%2x", &byte) != 1) return -1;
    value = value << 8 | byte;
  }
  return (long long)value;
}

static int failures;

static void expect(int ok, const char *what, const char *got) {
  printf("%s %s%s%s\n", ok ? "ok" : "FAIL", what, ok ? "" : ": got ", ok ? "" : got);
  failures += !ok;
}

/* The encode and launch lines of one call: two encodes (in, out) and one launch of
 * `launch_kind` with `geometry` and every launch attribute of `attrs` (NULL-terminated). */
static void check_call(const char *log_path, int skip, const char *name, const char *encode_in,
                       const char *encode_out, const char *launch_kind, const char *geometry,
                       const char *const *attrs) {
  static char lines[MAX_LINES][16384];
  int count = log_lines(log_path, skip, lines);
  const char *encodes[2] = {NULL, NULL}, *launch = NULL;
  int num_encodes = 0;
  for (int i = 0; i < count; ++i) {
    if (strncmp(lines[i], "encode ", 7) == 0 && num_encodes < 2) encodes[num_encodes++] = lines[i];
    if (strncmp(lines[i], "launch", 6) == 0) launch = lines[i];
  }
  char what[256];
  snprintf(what, sizeof what, "%s: in_desc encoded as %s", name, encode_in);
  expect(encodes[0] != NULL && strcmp(encodes[0], encode_in) == 0, what, encodes[0] ? encodes[0] : "none");
  snprintf(what, sizeof what, "%s: out_desc encoded as %s", name, encode_out);
  expect(encodes[1] != NULL && strcmp(encodes[1], encode_out) == 0, what, encodes[1] ? encodes[1] : "none");
  if (launch == NULL) {
    expect(0, name, "no launch");
    return;
  }
  snprintf(what, sizeof what, "%s: %s with %s", name, launch_kind, geometry);
  expect(strncmp(launch, launch_kind, strlen(launch_kind)) == 0 && launch[strlen(launch_kind)] == ' ' &&
             strstr(launch, geometry) != NULL,
         what, launch);
  for (; *attrs != NULL; ++attrs) {
    snprintf(what, sizeof what, "%s: launch attributes include %s", name, *attrs);
    expect(strstr(launch, *attrs) != NULL, what, launch);
  }

  /* Parameters: in map, in shape (i32 x 2), in strides (i64 x 2), the same for out, M, N. The
   * stand-in writes the address into the first word of each map it encodes. */
  const long long expected[][3] = {
      {0, 8, 0x10000}, {1, 4, 100}, {2, 4, 70}, {3, 8, 80},  {4, 8, 1},  {5, 8, 0x20000},
      {6, 4, 100},     {7, 4, 70},  {8, 8, 72}, {9, 8, 1},   {10, 4, 100}, {11, 4, 70},
  };
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; ++i) {
    long long got = launch_arg(launch, (int)expected[i][0], (int)expected[i][1]);
    char value[32];
    snprintf(value, sizeof value, "%lld", got);
    snprintf(what, sizeof what, "%s: kernel parameter %lld is %lld", name, expected[i][0], expected[i][2]);
    expect(got == expected[i][2], what, value);
  }
}

static int count_lines(const char *log_path) {
  FILE *log = fopen(log_path, "r");
  int count = 0;
  if (log == NULL) return 0;
  for (int c; (c = fgetc(log)) != EOF;) count += c == '\n';
  fclose(log);
  return count;
}

int main(int argc, char **argv) {
  /* Both descriptors: map (128 bytes), shape (2 x i32), strides (2 x i64); then M, N. */
  setenv("STANDIN_PARAM_SIZES", "128,4,4,8,8,128,4,4,8,8,4,4", 1);
  char log_path[PATH_MAX];
  if (standin_session_open(argc, argv, "9.0", log_path) != 0) return 2;

  /* A 100 x 70 fp16 tile copied from rows of 80 elements (160 bytes) to rows of 72 (144);
   * reads past the input's edge give NaN (padding 1), the output's zero (padding 0). */
  const int64_t rows = 100, cols = 70;
  char encode_in[256], encode_out[256];
  int skip = count_lines(log_path);
  CUresult status = tile_copy(NULL, 0x10000, rows, cols, 80, 1, 1, 0x20000, rows, cols, 72, 1, 0, (int32_t)rows,
                              (int32_t)cols, 0);
  expect(status == CUDA_SUCCESS, "algo 0 returns CUDA_SUCCESS", "an error");
  snprintf(encode_in, sizeof encode_in,
           "encode type=%d rank=2 address=0x10000 dims=70,100 strides=160 box=32,64 element_strides=1,1 "
           "interleave=%d swizzle=%d l2=%d fill=%d status=0",
           CU_TENSOR_MAP_DATA_TYPE_FLOAT16, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_64B,
           CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA);
  snprintf(encode_out, sizeof encode_out,
           "encode type=%d rank=2 address=0x20000 dims=70,100 strides=144 box=32,64 element_strides=1,1 "
           "interleave=%d swizzle=%d l2=%d fill=%d status=0",
           CU_TENSOR_MAP_DATA_TYPE_FLOAT16, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_64B,
           CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  /* 64 x 32 tiles: 2 x 3 programs of 4 warps. */
  const char *const no_attrs[] = {NULL};
  check_call(log_path, skip, "algo 0 (64 x 32)", encode_in, encode_out, "launch", "grid=2,3,1 block=128,1,1", no_attrs);

  skip = count_lines(log_path);
  status = tile_copy(NULL, 0x10000, rows, cols, 80, 1, 1, 0x20000, rows, cols, 72, 1, 0, (int32_t)rows, (int32_t)cols,
                     1);
  expect(status == CUDA_SUCCESS, "algo 1 returns CUDA_SUCCESS", "an error");
  /* 128 x 64 tiles over clusters of 2 CTAs: each CTA's box is 64 x 64 (128-byte rows). */
  snprintf(encode_in, sizeof encode_in,
           "encode type=%d rank=2 address=0x10000 dims=70,100 strides=160 box=64,64 element_strides=1,1 "
           "interleave=%d swizzle=%d l2=%d fill=%d status=0",
           CU_TENSOR_MAP_DATA_TYPE_FLOAT16, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
           CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NAN_REQUEST_ZERO_FMA);
  snprintf(encode_out, sizeof encode_out,
           "encode type=%d rank=2 address=0x20000 dims=70,100 strides=144 box=64,64 element_strides=1,1 "
           "interleave=%d swizzle=%d l2=%d fill=%d status=0",
           CU_TENSOR_MAP_DATA_TYPE_FLOAT16, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
           CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  /* 1 x 2 programs of 8 warps, 2 CTAs each in x. */
  char cluster[32], pdl[32];
  snprintf(cluster, sizeof cluster, "%d:2x1x1", (int)CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION);
  snprintf(pdl, sizeof pdl, "%d:1", (int)CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
  const char *const cluster_attrs[] = {cluster, pdl, NULL};
  check_call(log_path, skip, "algo 1 (128 x 64, num_ctas 2, launch_pdl)", encode_in, encode_out, "launch_ex",
             "grid=2,2,1 block=256,1,1", cluster_attrs);

  /* TMA needs a 16-byte aligned base: refused, nothing encoded or launched. */
  skip = count_lines(log_path);
  for (int algo = 0; algo < tile_copy_get_num_algos(); ++algo) {
    status = tile_copy(NULL, 0x10008, rows, cols, 80, 1, 0, 0x20000, rows, cols, 72, 1, 0, (int32_t)rows,
                       (int32_t)cols, algo);
    char got[32];
    snprintf(got, sizeof got, "status %d", (int)status);
    expect(status == CUDA_ERROR_INVALID_VALUE, "an unaligned base pointer returns CUDA_ERROR_INVALID_VALUE", got);
  }
  static char lines[MAX_LINES][16384];
  int logged = log_lines(log_path, skip, lines), touched = 0;
  for (int i = 0; i < logged; ++i) touched += strncmp(lines[i], "encode", 6) == 0 || strncmp(lines[i], "launch", 6) == 0;
  expect(touched == 0, "an unaligned base pointer encodes and launches nothing", logged ? lines[0] : "");
  return failures ? 1 : 0;
}
