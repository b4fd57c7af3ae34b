#version 300 es
// reads: the state in 3 RGBA float textures and the view uniforms
// writes: the canvas colour (RGB view, one channel in false colour, or a 2x2 tiled view)
precision highp float;
precision highp int;
precision highp sampler2D;

uniform sampler2D u_state0;
uniform sampler2D u_state1;
uniform sampler2D u_state2;
uniform vec2 u_canvas;  // drawing buffer size in pixels
uniform int u_view;     // 0 = RGB, 1 = one channel in false colour
uniform int u_channel;  // the channel shown when u_view == 1
uniform bool u_tiled;   // show the texture 2x2 to check that it tiles
uniform float u_zoom;   // 1 = the grid fills the canvas
uniform vec2 u_pan;     // offset of the view centre, in grid widths/heights

out vec4 out_color;

vec4 fetch_target(int k, ivec2 c) {
  if (k == 0) return texelFetch(u_state0, c, 0);
  if (k == 1) return texelFetch(u_state1, c, 0);
  if (k == 2) return texelFetch(u_state2, c, 0);
  return vec4(0.0);
}

// Diverging map: negative -> blue, zero -> dark grey, positive -> orange.
vec3 false_colour(float v) {
  float t = clamp(v, -1.0, 1.0);
  vec3 neg = vec3(0.1, 0.35, 1.0), pos = vec3(1.0, 0.55, 0.1), mid = vec3(0.12);
  return t < 0.0 ? mix(mid, neg, -t) : mix(mid, pos, t);
}

void main() {
  ivec2 size = textureSize(u_state0, 0);
  // Canvas y grows upwards; the state's row 0 is the top of the picture.
  vec2 uv = vec2(gl_FragCoord.x / u_canvas.x, 1.0 - gl_FragCoord.y / u_canvas.y);
  uv = (uv - 0.5) / u_zoom + 0.5 + u_pan;
  if (u_tiled) uv *= 2.0;
  ivec2 c = clamp(ivec2(fract(uv) * vec2(size)), ivec2(0), size - 1);
  if (u_view == 0) {
    out_color = vec4(clamp(fetch_target(0, c).rgb + 0.5, 0.0, 1.0), 1.0);
  } else {
    int ch = clamp(u_channel, 0, 11);
    out_color = vec4(false_colour(fetch_target(ch / 4, c)[ch % 4]), 1.0);
  }
}
