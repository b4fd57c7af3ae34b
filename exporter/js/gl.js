// gl.js: the WebGL2 plumbing under the NCA engine (nca.js). Nothing model-specific lives here.
//
//   const gl = createContext(canvas);                 // WebGL2, no antialiasing, or a thrown Error
//   const prog = compileProgram(gl, fragSource, 'update');   // throws ShaderError with the info log
//   const fmt = detectFloatFormat(gl);                // {name: 'RGBA32F' | 'RGBA16F', internalFormat, type}
//   const state = createPingPong(gl, w, h, targets, fmt);    // {read, write, swap()}, each side MRT
//   bindOutput(gl, state.write); drawFullscreen(gl); state.swap();

// A full-screen triangle generated from gl_VertexID: no vertex buffer to set up.
const VERTEX_SOURCE = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID & 1) << 2) - 1.0, float((gl_VertexID & 2) << 1) - 1.0);
  gl_Position = vec4(p, 0.0, 1.0);
}`;

export class ShaderError extends Error {}

export function createContext(canvas, attributes = {}) {
  const gl = canvas.getContext('webgl2', {
    antialias: false, depth: false, stencil: false, alpha: false,
    preserveDrawingBuffer: true,  // lets tests and the recorder read the canvas after a frame
    ...attributes,
  });
  if (!gl) throw new Error('WebGL2 is not available in this browser');
  return gl;
}

// The info log with the offending source lines, numbered as the compiler counts them.
function describeCompileError(log, source, label) {
  const lines = source.split('\n');
  const wanted = new Set();
  for (const m of log.matchAll(/ERROR:\s*\d+:(\d+)/g)) wanted.add(Number(m[1]));
  const excerpt = [];
  for (const n of [...wanted].sort((a, b) => a - b)) {
    for (let i = Math.max(1, n - 2); i <= Math.min(lines.length, n + 2); i++) {
      const text = lines[i - 1].length > 160 ? lines[i - 1].slice(0, 160) + ' ...' : lines[i - 1];
      excerpt.push(`${i === n ? '>' : ' '}${String(i).padStart(5)}| ${text}`);
    }
  }
  return `shader ${label} failed to compile:\n${log.trim()}\n${excerpt.join('\n')}`;
}

function compileShader(gl, type, source, label) {
  const shader = gl.createShader(type);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    const log = gl.getShaderInfoLog(shader) || '(no info log)';
    gl.deleteShader(shader);
    throw new ShaderError(describeCompileError(log, source, label));
  }
  return shader;
}

// Returns {program, uniforms: {name: location}, label}.
export function compileProgram(gl, fragmentSource, label = 'program') {
  const vs = compileShader(gl, gl.VERTEX_SHADER, VERTEX_SOURCE, `${label} (vertex)`);
  const fs = compileShader(gl, gl.FRAGMENT_SHADER, fragmentSource, label);
  const program = gl.createProgram();
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  gl.linkProgram(program);
  gl.deleteShader(vs);
  gl.deleteShader(fs);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new ShaderError(`shader ${label} failed to link:\n${gl.getProgramInfoLog(program)}`);
  }
  const uniforms = {};
  const n = gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS);
  for (let i = 0; i < n; i++) {
    const name = gl.getActiveUniform(program, i).name;
    uniforms[name] = gl.getUniformLocation(program, name);
  }
  return { program, uniforms, label };
}

const FORMATS = {
  RGBA32F: (gl) => ({ name: 'RGBA32F', internalFormat: gl.RGBA32F, type: gl.FLOAT }),
  RGBA16F: (gl) => ({ name: 'RGBA16F', internalFormat: gl.RGBA16F, type: gl.HALF_FLOAT }),
};

// Can we render into this format? The extensions say so, but drivers have lied: try it.
function renderable(gl, fmt) {
  const tex = createTexture(gl, 4, 4, fmt);
  const fb = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex, 0);
  const ok = gl.checkFramebufferStatus(gl.FRAMEBUFFER) === gl.FRAMEBUFFER_COMPLETE;
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  gl.deleteFramebuffer(fb);
  gl.deleteTexture(tex);
  return ok;
}

// RGBA32F when EXT_color_buffer_float renders, else RGBA16F (EXT_color_buffer_half_float).
// `prefer` = 'RGBA16F' forces the half-float path (tests, or to save memory).
export function detectFloatFormat(gl, prefer = 'RGBA32F') {
  const full = gl.getExtension('EXT_color_buffer_float');
  const half = gl.getExtension('EXT_color_buffer_half_float');
  const order = prefer === 'RGBA16F' ? ['RGBA16F'] : ['RGBA32F', 'RGBA16F'];
  for (const name of order) {
    if (name === 'RGBA32F' && !full) continue;
    if (name === 'RGBA16F' && !full && !half) continue;
    const fmt = FORMATS[name](gl);
    if (renderable(gl, fmt)) return fmt;
  }
  throw new Error('this browser cannot render to float textures (no EXT_color_buffer_float / half_float)');
}

export function createTexture(gl, width, height, fmt) {
  const tex = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texStorage2D(gl.TEXTURE_2D, 1, fmt.internalFormat, width, height);
  // The shaders use texelFetch only; NEAREST keeps float textures complete without
  // OES_texture_float_linear.
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  gl.bindTexture(gl.TEXTURE_2D, null);
  return tex;
}

// `count` textures attached to one framebuffer as COLOR_ATTACHMENT0..count-1 (MRT).
export function createTargets(gl, width, height, count, fmt) {
  const textures = [];
  const framebuffer = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
  const attachments = [];
  for (let k = 0; k < count; k++) {
    const tex = createTexture(gl, width, height, fmt);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + k, gl.TEXTURE_2D, tex, 0);
    textures.push(tex);
    attachments.push(gl.COLOR_ATTACHMENT0 + k);
  }
  gl.drawBuffers(attachments);
  const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
  gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  if (status !== gl.FRAMEBUFFER_COMPLETE) {
    throw new Error(`cannot render to ${count} ${fmt.name} targets of ${width}x${height} (status 0x${status.toString(16)})`);
  }
  return { textures, framebuffer, width, height, count };
}

export function deleteTargets(gl, targets) {
  for (const tex of targets.textures) gl.deleteTexture(tex);
  gl.deleteFramebuffer(targets.framebuffer);
}

// Double-buffered state: passes read `read` and write `write`, then swap().
export function createPingPong(gl, width, height, count, fmt) {
  const pair = {
    read: createTargets(gl, width, height, count, fmt),
    write: createTargets(gl, width, height, count, fmt),
    width, height, count, format: fmt,
    swap() { [pair.read, pair.write] = [pair.write, pair.read]; },
    dispose() { deleteTargets(gl, pair.read); deleteTargets(gl, pair.write); },
  };
  return pair;
}

// Bind `targets` (or the canvas when null) as the output and set the viewport to match.
export function bindOutput(gl, targets) {
  if (targets) {
    gl.bindFramebuffer(gl.FRAMEBUFFER, targets.framebuffer);
    gl.viewport(0, 0, targets.width, targets.height);
  } else {
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight);
  }
}

// Bind the textures of `targets` to units 0..count-1 and point uniforms `${prefix}k` at them.
export function bindInputs(gl, prog, targets, prefix = 'u_state') {
  targets.textures.forEach((tex, k) => {
    gl.activeTexture(gl.TEXTURE0 + k);
    gl.bindTexture(gl.TEXTURE_2D, tex);
    const loc = prog.uniforms[`${prefix}${k}`];
    if (loc) gl.uniform1i(loc, k);
  });
}

const emptyVaos = new WeakMap();  // one per context
export function drawFullscreen(gl) {
  // WebGL2 wants a vertex array bound even when the vertex shader reads no attribute.
  if (!emptyVaos.has(gl)) emptyVaos.set(gl, gl.createVertexArray());
  gl.bindVertexArray(emptyVaos.get(gl));
  gl.drawArrays(gl.TRIANGLES, 0, 3);
}
