// Builds the console into one directory of static files for a broker's
// http_dir: index.html, console.css, console.js (src/ and MQTT.js in one
// classic script) and THIRD-PARTY.txt (the licence of what is bundled).
//
//   node build.mjs [OUTDIR]      default: ../build/console
//
// A classic (IIFE) script, not an ES module: Mosquitto's websockets
// listener serves http_dir files without a Content-Type header, and
// browsers refuse to run module scripts without a JavaScript MIME type.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] || join(here, '..', 'build', 'console'));
const src = join(here, 'src');

// Markup from data would defeat the escaping the console relies on.
const banned = /\.(innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write\b/;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await esbuild.build({
	entryPoints: [join(src, 'main.js')],
	bundle: true,
	format: 'iife',
	platform: 'browser',
	target: ['es2020'],
	minify: true,
	legalComments: 'eof',
	metafile: true,
	outfile: join(out, 'console.js'),
	logLevel: 'warning',
	absWorkingDir: here,
});

for (const file of Object.keys(result.metafile.inputs)) {
	if (file.startsWith('src/') && banned.test(readFileSync(join(here, file), 'utf8'))) {
		console.error(`${file}: builds markup from a string; use dom.js`);
		process.exit(1);
	}
}

copyFileSync(join(src, 'index.html'), join(out, 'index.html'));
copyFileSync(join(src, 'console.css'), join(out, 'console.css'));

// What the bundle holds from node_modules, with each package's licence.
const packages = new Map();
for (const file of Object.keys(result.metafile.inputs)) {
	const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
	if (m && !packages.has(m[1])) {
		const dir = join(here, 'node_modules', m[1]);
		const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
		let text = '';
		for (const name of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license']) {
			try {
				text = readFileSync(join(dir, name), 'utf8');
				break;
			} catch {
				// Try the next name.
			}
		}
		packages.set(m[1], { version: pkg.version, license: pkg.license, text });
	}
}
let notice = 'console.js bundles the following packages (and the licence notices at its end):\n\n';
for (const [name, p] of packages)
	notice += `${name} ${p.version} (${p.license})\n\n${p.text.trim()}\n\n`;
writeFileSync(join(out, 'THIRD-PARTY.txt'), notice);

const size = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`console: ${out} (console.js ${Math.round(size / 1024)} KiB)`);
