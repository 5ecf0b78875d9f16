import { describe, expect, it } from 'vitest';
import { backendPlan, type GpuProbe, isSoftwareRenderer } from './backendPlan.js';

// Names as headless Chromium reports them here (Debian's chromium, --use-angle=swiftshader --enable-unsafe-webgpu).
const SWIFTSHADER_WEBGPU: GpuProbe = { name: 'google swiftshader', software: true };
const SWIFTSHADER_WEBGL: GpuProbe = { name: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', software: true };
const HARDWARE_WEBGPU: GpuProbe = { name: 'nvidia ampere', software: false };
const HARDWARE_WEBGL: GpuProbe = { name: 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)', software: false };
const NO_WEBGPU: GpuProbe = { unavailable: 'navigator.gpu is absent', name: '', software: false };

describe('backendPlan', () => {
  it('recognizes software renderers by their own names', () => {
    expect(isSoftwareRenderer(SWIFTSHADER_WEBGL.name)).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('Microsoft Basic Render Driver')).toBe(true);
    expect(isSoftwareRenderer(HARDWARE_WEBGL.name)).toBe(false);
    expect(isSoftwareRenderer('apple metal-3')).toBe(false);
  });

  it('auto: never a software GPU over wasm, and says why each was passed over', () => {
    const plan = backendPlan('auto', { webgpu: SWIFTSHADER_WEBGPU, webgl: SWIFTSHADER_WEBGL });
    expect(plan.order).toEqual(['wasm']);
    expect(plan.passedOver).toEqual([
      'WebGPU is a software GPU (google swiftshader), slower than wasm',
      `WebGL is a software GPU (${SWIFTSHADER_WEBGL.name}), slower than wasm`,
    ]);
    expect(backendPlan('auto', { webgpu: NO_WEBGPU, webgl: SWIFTSHADER_WEBGL }).passedOver[0]).toBe('WebGPU: navigator.gpu is absent');
  });

  it('auto: hardware WebGPU first, then hardware WebGL, wasm always last', () => {
    expect(backendPlan('auto', { webgpu: HARDWARE_WEBGPU, webgl: HARDWARE_WEBGL }).order).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(backendPlan('auto', { webgpu: NO_WEBGPU, webgl: HARDWARE_WEBGL }).order).toEqual(['webgl', 'wasm']);
  });

  it('a named backend is tried first even when software, then the auto order as the fallback', () => {
    expect(backendPlan('webgpu', { webgpu: SWIFTSHADER_WEBGPU, webgl: SWIFTSHADER_WEBGL })).toEqual({ order: ['webgpu', 'wasm'], passedOver: [] });
    expect(backendPlan('webgl', { webgpu: HARDWARE_WEBGPU, webgl: SWIFTSHADER_WEBGL }).order).toEqual(['webgl', 'webgpu', 'wasm']);
    expect(backendPlan('wasm', { webgpu: HARDWARE_WEBGPU, webgl: HARDWARE_WEBGL }).order).toEqual(['wasm', 'webgpu', 'webgl']);
  });
});
