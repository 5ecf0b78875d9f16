import { existsSync } from 'node:fs';

/**
 * The Vulkan driver Dawn's `webgpu` package uses in the tests: the one the user set through
 * `VK_ICD_FILENAMES`, else SwiftShader's, which Debian's chromium package installs (`dpkg -L
 * chromium | grep icd`; Mesa's lavapipe in Debian 12 lacks a feature Dawn requires). Side-effect
 * free apart from the environment it sets, so that code which starts Dawn itself (the WebGPU
 * example) can share it without starting a second Dawn instance.
 */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Sets `VK_ICD_FILENAMES` (if unset) and `XDG_RUNTIME_DIR` for Dawn; returns why no driver exists, or undefined. */
export function pointDawnAtVulkanDriver(): string | undefined {
  if (process.env['MUON_TFJS_DISABLE_WEBGPU'] === '1') return 'MUON_TFJS_DISABLE_WEBGPU=1';
  if (process.env['VK_ICD_FILENAMES'] === undefined) {
    if (!existsSync(SWIFTSHADER_ICD)) return `no Vulkan driver: VK_ICD_FILENAMES is unset and ${SWIFTSHADER_ICD} is absent (apt-get install chromium libvulkan1)`;
    process.env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
  }
  process.env['XDG_RUNTIME_DIR'] ??= '/tmp';
  return undefined;
}
