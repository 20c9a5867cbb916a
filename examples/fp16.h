/* IEEE binary16 <-> float conversion on the CPU, for inputs and the reference check. */
#ifndef RULES_TRITON_EXAMPLES_FP16_H_
#define RULES_TRITON_EXAMPLES_FP16_H_

#include <stdint.h>
#include <string.h>

static inline float fp16_to_float(uint16_t half) {
  uint32_t sign = (uint32_t)(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  uint32_t bits;
  if (exponent == 0) {
    float magnitude = (float)mantissa * (1.0f / 16777216.0f); /* subnormal: mantissa * 2^-24 */
    memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  } else if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/* Round to nearest even; values below the normal range flush to zero (the examples' inputs
 * are small multiples of 1/8, exact in binary16). */
static inline uint16_t float_to_fp16(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  uint16_t sign = (uint16_t)((bits >> 16) & 0x8000u);
  int32_t exponent = (int32_t)((bits >> 23) & 0xffu) - 127 + 15;
  uint32_t mantissa = bits & 0x7fffffu;
  if (exponent <= 0) return sign;
  if (exponent >= 0x1f) return (uint16_t)(sign | 0x7c00u);
  uint16_t half = (uint16_t)(sign | ((uint32_t)exponent << 10) | (mantissa >> 13));
  uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;
  return half;
}

#endif /* RULES_TRITON_EXAMPLES_FP16_H_ */
