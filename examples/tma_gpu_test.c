/* GPU test of the tensor-descriptor examples, tma_matmul and attention (cuda:90 and newer),
 * through their linked dispatchers:
 * - every matmul algo at sizes off every block size, with a padded row stride, and with 3
 *   programs (many tiles each) as well as one per multiprocessor;
 * - attention for head dim 64 and 128, causal and not, N_CTX off the block size;
 * - inputs TMA cannot take (a base off the 16-byte grid, a non-unit inner stride, a row
 *   stride that is not a multiple of 16 bytes) refused with CUDA_ERROR_INVALID_VALUE, the
 *   output untouched.
 * Outputs start as NaN inside a NaN guard; results are compared with a CPU reference.
 * Fails without a GPU: tagged "requires-gpu", "manual". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "examples/attention.h"
#include "examples/cuda_driver.h"
#include "examples/fp16.h"
#include "examples/tma_matmul.h"

enum { FP16_NAN = 0x7e00, SAMPLES = 2048 };

static int is_nan16(uint16_t half) { return (half & 0x7c00u) == 0x7c00u && (half & 0x3ffu) != 0; }

static uint32_t next_random(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

/* Multiples of 1/8 in [-0.5, 0.5]: exact in fp16, and the matmul's fp32 sums of their products
 * are exact, so only the final rounding to fp16 differs from the reference. */
static uint16_t random_eighth(uint32_t *state) {
  return float_to_fp16((float)((int)(next_random(state) % 9u) - 4) / 8.0f);
}

/* A host copy and a device copy of `count` fp16 values. */
struct buffer {
  size_t count;
  uint16_t *host;
  CUdeviceptr gpu;
};

static CUresult buffer_create(const struct cuda_driver *cu, struct buffer *b, size_t count) {
  b->count = count;
  b->host = malloc(count * sizeof *b->host);
  b->gpu = 0;
  if (b->host == NULL) return CUDA_ERROR_OUT_OF_MEMORY;
  for (size_t i = 0; i < count; ++i) b->host[i] = FP16_NAN;
  return cu->mem_alloc(&b->gpu, count * sizeof *b->host);
}

static CUresult buffer_upload(const struct cuda_driver *cu, const struct buffer *b) {
  return cu->memcpy_htod(b->gpu, b->host, b->count * sizeof *b->host);
}

static CUresult buffer_download(const struct cuda_driver *cu, struct buffer *b) {
  return cu->memcpy_dtoh(b->host, b->gpu, b->count * sizeof *b->host);
}

static void buffer_destroy(const struct cuda_driver *cu, struct buffer *b) {
  if (b->gpu) cu->mem_free(b->gpu);
  free(b->host);
  b->host = NULL;
  b->gpu = 0;
}

/* ---- matmul ---------------------------------------------------------------------------- */

/* A row-major rows x cols matrix whose rows are `stride` elements apart, in a NaN-filled
 * buffer one row longer (the guard). */
struct matrix {
  int rows, cols;
  int64_t stride;
  struct buffer data;
};

static CUresult matrix_create(const struct cuda_driver *cu, struct matrix *m, int rows, int cols, int64_t stride,
                              uint32_t seed) {
  m->rows = rows;
  m->cols = cols;
  m->stride = stride;
  CUresult r = buffer_create(cu, &m->data, (size_t)(rows + 1) * (size_t)stride);
  if (r != CUDA_SUCCESS) return r;
  uint32_t state = seed;
  for (int i = 0; seed != 0 && i < rows; ++i) {
    for (int j = 0; j < cols; ++j) m->data.host[(size_t)i * stride + j] = random_eighth(&state);
  }
  return buffer_upload(cu, &m->data);
}

/* Every element outside the matrix still NaN? A TMA store writes whole 16-byte chunks: where
 * a row's length in bytes is not a multiple of 16, the rest of its last chunk may be written
 * too (a hardware rule, docs/PERFORMANCE.md); nothing beyond that chunk may be. */
static int guard_intact(const struct matrix *m) {
  int chunk_end = (m->cols + 7) / 8 * 8;
  for (size_t i = 0; i < m->data.count; ++i) {
    int row = (int)(i / (size_t)m->stride), column = (int)(i % (size_t)m->stride);
    int inside = row < m->rows && column < chunk_end;
    if (!inside && !is_nan16(m->data.host[i])) return 0;
  }
  return 1;
}

static CUresult run_matmul(int algo, const struct matrix *a, const struct matrix *b, const struct matrix *c,
                           int num_sms) {
  return tma_matmul(NULL, a->data.gpu, a->rows, a->cols, a->stride, 1, 0, b->data.gpu, b->rows, b->cols, b->stride, 1,
                    0, c->data.gpu, c->rows, c->cols, c->stride, 1, 0, a->rows, b->cols, a->cols, num_sms, algo);
}

/* Compares SAMPLES elements of C with the CPU reference, the four corners always. */
static int matmul_wrong(const struct matrix *a, const struct matrix *b, const struct matrix *c) {
  uint32_t state = 7u;
  int wrong = 0;
  for (int s = 0; s < SAMPLES; ++s) {
    int row = s < 4 ? ((s & 1) ? c->rows - 1 : 0) : (int)(next_random(&state) % (uint32_t)c->rows);
    int column = s < 4 ? ((s & 2) ? c->cols - 1 : 0) : (int)(next_random(&state) % (uint32_t)c->cols);
    double expected = 0.0;
    for (int k = 0; k < a->cols; ++k) {
      expected += (double)fp16_to_float(a->data.host[(size_t)row * a->stride + k]) *
                  (double)fp16_to_float(b->data.host[(size_t)k * b->stride + column]);
    }
    double got = fp16_to_float(c->data.host[(size_t)row * c->stride + column]);
    wrong += !(fabs(got - expected) <= 2e-3 * (1.0 + fabs(expected))); /* NaN is wrong */
  }
  return wrong;
}

static int check_matmul(const struct cuda_session *session, int algo, int m, int n, int k, int pad, int num_sms) {
  const struct cuda_driver *cu = &session->driver;
  struct matrix a = {0}, b = {0}, c = {0};
  /* Row strides round the row length (plus `pad`) up to 8 elements: 16 bytes, as TMA needs. */
  CUresult r = matrix_create(cu, &a, m, k, (k + pad + 7) / 8 * 8, 11u);
  if (r == CUDA_SUCCESS) r = matrix_create(cu, &b, k, n, (n + pad + 7) / 8 * 8, 13u);
  if (r == CUDA_SUCCESS) r = matrix_create(cu, &c, m, n, (n + pad + 7) / 8 * 8, 0u);
  if (r == CUDA_SUCCESS) r = run_matmul(algo, &a, &b, &c, num_sms);
  if (r == CUDA_SUCCESS) r = cu->ctx_synchronize();
  if (r == CUDA_SUCCESS) r = buffer_download(cu, &c.data);
  int wrong = r == CUDA_SUCCESS ? matmul_wrong(&a, &b, &c) : -1;
  int intact = r == CUDA_SUCCESS && guard_intact(&c);
  printf("tma_matmul %s %dx%dx%d pad %d, %d programs: %s, %d of %d wrong, guard %s\n", tma_matmul_get_algo_name(algo),
         m, n, k, pad, num_sms, cuda_error_name(session, r), wrong, SAMPLES, intact ? "intact" : "WRITTEN");
  buffer_destroy(cu, &a.data);
  buffer_destroy(cu, &b.data);
  buffer_destroy(cu, &c.data);
  return r == CUDA_SUCCESS && wrong == 0 && intact;
}

/* The refusal checks: 64 x 64 operands, A in a buffer whose rows are REFUSAL_ROW_STRIDE
 * elements apart, so every element a bad stride below names lies inside it. */
enum { REFUSAL_SIZE = 64, REFUSAL_ROW_STRIDE = 1008 };

/* One input TMA cannot take, passed for A: the call must fail before anything runs. */
struct bad_input {
  const char *what;
  size_t base_offset; /* bytes added to A's base */
  int64_t row_stride; /* A's row stride, elements */
  int64_t inner_stride;
};

static int check_refused(const struct cuda_session *session, const struct bad_input *bad, int num_sms) {
  const struct cuda_driver *cu = &session->driver;
  enum { SIZE = REFUSAL_SIZE };
  struct matrix a = {0}, b = {0}, c = {0};
  CUresult r = matrix_create(cu, &a, SIZE, SIZE, REFUSAL_ROW_STRIDE, 3u);
  if (r == CUDA_SUCCESS) r = matrix_create(cu, &b, SIZE, SIZE, SIZE, 5u);
  if (r == CUDA_SUCCESS) r = matrix_create(cu, &c, SIZE, SIZE, SIZE, 0u);
  CUresult call = CUDA_ERROR_UNKNOWN;
  if (r == CUDA_SUCCESS) {
    call = tma_matmul_default(NULL, a.data.gpu + bad->base_offset, SIZE, SIZE, bad->row_stride, bad->inner_stride, 0,
                              b.data.gpu, SIZE, SIZE, SIZE, 1, 0, c.data.gpu, SIZE, SIZE, SIZE, 1, 0, SIZE, SIZE, SIZE,
                              num_sms);
    r = cu->ctx_synchronize();
  }
  if (r == CUDA_SUCCESS) r = buffer_download(cu, &c.data);
  int untouched = r == CUDA_SUCCESS;
  for (size_t i = 0; untouched && i < c.data.count; ++i) untouched = is_nan16(c.data.host[i]);
  printf("tma_matmul refuses %s: %s, output %s\n", bad->what, cuda_error_name(session, call),
         untouched ? "untouched" : "WRITTEN");
  buffer_destroy(cu, &a.data);
  buffer_destroy(cu, &b.data);
  buffer_destroy(cu, &c.data);
  return call == CUDA_ERROR_INVALID_VALUE && untouched;
}

/* ---- attention ------------------------------------------------------------------------- */

/* The algo compiled for HEAD_DIM and CAUSAL: names are "HEAD_DIMxBLOCK_MxBLOCK_NxCAUSAL_warps..". */
static int attention_algo(int head_dim, int causal) {
  for (int algo = 0; algo < attention_get_num_algos(); ++algo) {
    int dim = 0, block_m = 0, block_n = 0, is_causal = 0;
    if (sscanf(attention_get_algo_name(algo), "%dx%dx%dx%d_", &dim, &block_m, &block_n, &is_causal) == 4 &&
        dim == head_dim && is_causal == causal) {
      return algo;
    }
  }
  return -1;
}

/* O[row] of one head, from the fp16 inputs, in double. */
static void attention_row(const uint16_t *q, const uint16_t *k, const uint16_t *v, int n_ctx, int head_dim, int row,
                          int causal, double scale, double *out, double *scores) {
  int keys = causal ? row + 1 : n_ctx;
  double max = -INFINITY, sum = 0.0;
  for (int j = 0; j < keys; ++j) {
    double dot = 0.0;
    for (int d = 0; d < head_dim; ++d) {
      dot += (double)fp16_to_float(q[(size_t)row * head_dim + d]) * (double)fp16_to_float(k[(size_t)j * head_dim + d]);
    }
    scores[j] = dot * scale;
    if (scores[j] > max) max = scores[j];
  }
  for (int d = 0; d < head_dim; ++d) out[d] = 0.0;
  for (int j = 0; j < keys; ++j) {
    double p = exp(scores[j] - max);
    sum += p;
    for (int d = 0; d < head_dim; ++d) out[d] += p * (double)fp16_to_float(v[(size_t)j * head_dim + d]);
  }
  for (int d = 0; d < head_dim; ++d) out[d] /= sum;
}

static int check_attention(const struct cuda_session *session, int heads, int n_ctx, int head_dim, int causal) {
  const struct cuda_driver *cu = &session->driver;
  int algo = attention_algo(head_dim, causal);
  if (algo < 0) {
    printf("attention head dim %d causal %d: FAILED, no algo\n", head_dim, causal);
    return 0;
  }
  size_t head_size = (size_t)n_ctx * head_dim, count = (size_t)heads * head_size;
  struct buffer q = {0}, k = {0}, v = {0}, o = {0};
  uint32_t state = 17u;
  CUresult r = buffer_create(cu, &q, count);
  if (r == CUDA_SUCCESS) r = buffer_create(cu, &k, count);
  if (r == CUDA_SUCCESS) r = buffer_create(cu, &v, count);
  if (r == CUDA_SUCCESS) r = buffer_create(cu, &o, count + head_size); /* a guard head after the last */
  /* V grows with the key's position, so a key wrongly masked or let through moves O by far
   * more than the tolerance. */
  for (size_t i = 0; r == CUDA_SUCCESS && i < count; ++i) {
    int position = (int)(i % head_size) / head_dim;
    q.host[i] = random_eighth(&state);
    k.host[i] = random_eighth(&state);
    v.host[i] = float_to_fp16((float)position / (float)n_ctx + fp16_to_float(random_eighth(&state)));
  }
  if (r == CUDA_SUCCESS) r = buffer_upload(cu, &q);
  if (r == CUDA_SUCCESS) r = buffer_upload(cu, &k);
  if (r == CUDA_SUCCESS) r = buffer_upload(cu, &v);
  if (r == CUDA_SUCCESS) r = buffer_upload(cu, &o);
  double scale = 1.0 / sqrt((double)head_dim);
  int64_t head_stride = (int64_t)head_size; /* [heads, N_CTX, HEAD_DIM], contiguous */
  if (r == CUDA_SUCCESS) {
    r = attention(NULL, q.gpu, heads, n_ctx, head_dim, head_stride, head_dim, 1, 0, k.gpu, heads, n_ctx, head_dim,
                  head_stride, head_dim, 1, 0, v.gpu, heads, n_ctx, head_dim, head_stride, head_dim, 1, 0, o.gpu, heads,
                  n_ctx, head_dim, head_stride, head_dim, 1, 0, (float)scale, n_ctx, heads, algo);
  }
  if (r == CUDA_SUCCESS) r = cu->ctx_synchronize();
  if (r == CUDA_SUCCESS) r = buffer_download(cu, &o);
  int wrong = -1, checked = 0, intact = 0;
  double *expected = malloc(sizeof(double) * (size_t)head_dim), *scores = malloc(sizeof(double) * (size_t)n_ctx);
  if (r == CUDA_SUCCESS && expected && scores) {
    wrong = 0;
    for (int head = 0; head < heads; ++head) {
      size_t at = (size_t)head * head_size;
      for (int row = 0; row < n_ctx; row += row < 4 || row + 4 >= n_ctx ? 1 : 13) { /* ends, then every 13th */
        attention_row(q.host + at, k.host + at, v.host + at, n_ctx, head_dim, row, causal, scale, expected, scores);
        for (int d = 0; d < head_dim; ++d) {
          double got = fp16_to_float(o.host[at + (size_t)row * head_dim + d]);
          wrong += !(fabs(got - expected[d]) <= 1e-2 * (1.0 + fabs(expected[d])));
          ++checked;
        }
      }
    }
    intact = 1;
    for (size_t i = count; i < o.count; ++i) intact &= is_nan16(o.host[i]);
  }
  printf("attention %s, %d heads, N_CTX %d: %s, %d of %d wrong, guard %s\n", attention_get_algo_name(algo), heads,
         n_ctx, cuda_error_name(session, r), wrong, checked, intact ? "intact" : "WRITTEN");
  free(expected);
  free(scores);
  buffer_destroy(cu, &q);
  buffer_destroy(cu, &k);
  buffer_destroy(cu, &v);
  buffer_destroy(cu, &o);
  return r == CUDA_SUCCESS && wrong == 0 && intact;
}

int main(void) {
  struct cuda_session session;
  char why[256];
  if (cuda_session_open(&session, why, sizeof why) != 0) {
    fprintf(stderr, "tma_gpu_test: FAILED: no usable GPU: %s\n", why);
    return 1;
  }
  int num_sms = 0;
  CUresult r = session.driver.device_get_attribute(&num_sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, session.device);
  if (r != CUDA_SUCCESS) {
    fprintf(stderr, "tma_gpu_test: FAILED: multiprocessor count: %s\n", cuda_error_name(&session, r));
    return 1;
  }
  int failures = 0;
  const struct {
    int m, n, k, pad;
  } sizes[] = {{1024, 1024, 1024, 0}, {1001, 1000, 1000, 0}, {999, 1001, 1003, 13}, {16, 4096, 512, 0}, {3, 8, 8, 0}};
  for (int algo = 0; algo < tma_matmul_get_num_algos(); ++algo) {
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
      failures += !check_matmul(&session, algo, sizes[s].m, sizes[s].n, sizes[s].k, sizes[s].pad, num_sms);
    }
    failures += !check_matmul(&session, algo, 1001, 1000, 1000, 0, 3);
  }
  const struct bad_input bad[] = {
      {"a base 2 bytes off the 16-byte grid", 2, REFUSAL_ROW_STRIDE, 1},
      {"a non-unit inner stride", 0, REFUSAL_ROW_STRIDE, 2},
      {"a row stride of 1001 halves (not a multiple of 16 bytes)", 0, 1001, 1},
  };
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; ++b) failures += !check_refused(&session, &bad[b], num_sms);
  for (int head_dim = 64; head_dim <= 128; head_dim *= 2) {
    for (int causal = 0; causal <= 1; ++causal) {
      failures += !check_attention(&session, 3, 77, head_dim, causal);
      failures += !check_attention(&session, 2, 1000, head_dim, causal);
    }
  }
  cuda_session_close(&session);
  printf("%s\n", failures ? "FAILED" : "PASSED");
  return failures ? 1 : 0;
}
