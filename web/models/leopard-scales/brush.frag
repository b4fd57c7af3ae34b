#version 300 es
// reads: the state in 3 RGBA float textures and the brush uniforms
// writes: the state with a disc erased to the seed (zeros) or filled with noise, to 3 render targets
precision highp float;
precision highp int;
precision highp sampler2D;

uniform sampler2D u_state0;
uniform sampler2D u_state1;
uniform sampler2D u_state2;
uniform vec2 u_center;  // disc centre in cells, x right, y down from row 0
uniform float u_radius; // disc radius in cells
uniform int u_mode;     // 0 = erase to the seed, 1 = noise
uniform float u_noise;  // noise amplitude: values uniform in [-u_noise, u_noise]
uniform uint u_seed;    // changes every stroke so noise differs

layout(location = 0) out vec4 out_state0;
layout(location = 1) out vec4 out_state1;
layout(location = 2) out vec4 out_state2;

// Integer hash (PCG output permutation) of (cell, step, seed): the same on every GPU,
// unlike sin()-based hashes whose low bits depend on the driver's precision.
uint pcg_hash(uint v) {
  uint state = v * 747796405u + 2891336453u;
  uint word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Uniform in [0, 1) with 24 random bits, for cell p, counter t (step or channel) and seed.
float cell_random(ivec2 p, uint t, uint seed) {
  uint h = pcg_hash(uint(p.x) ^ pcg_hash(uint(p.y) ^ pcg_hash(t ^ pcg_hash(seed))));
  return float(h >> 8u) * (1.0 / 16777216.0);
}

vec4 noise4(ivec2 p, uint k) {
  return u_noise * (2.0 * vec4(cell_random(p, 4u * k, u_seed), cell_random(p, 4u * k + 1u, u_seed),
                               cell_random(p, 4u * k + 2u, u_seed), cell_random(p, 4u * k + 3u, u_seed)) - 1.0);
}

void main() {
  ivec2 size = textureSize(u_state0, 0);
  ivec2 p = ivec2(gl_FragCoord.xy);
  // The grid is a torus, so the disc wraps around the edges like the texture does.
  vec2 d = abs(vec2(p) + 0.5 - u_center);
  d = min(d, vec2(size) - d);
  bool inside = dot(d, d) <= u_radius * u_radius;
  out_state0 = !inside ? texelFetch(u_state0, p, 0) : (u_mode == 0 ? vec4(0.0) : noise4(p, 0u));
  out_state1 = !inside ? texelFetch(u_state1, p, 0) : (u_mode == 0 ? vec4(0.0) : noise4(p, 1u));
  out_state2 = !inside ? texelFetch(u_state2, p, 0) : (u_mode == 0 ? vec4(0.0) : noise4(p, 2u));
}
