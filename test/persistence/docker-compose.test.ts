import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

type Yaml = string | Yaml[] | { [key: string]: Yaml };

/**
 * A deliberately small YAML reader for the block-style subset docker-compose.yml uses: nested
 * maps by indentation, `- scalar` lists, JSON-style flow lists (`["a", "b"]`), quoted or plain
 * scalars, full-line comments. Anything else throws, so the file cannot drift into YAML this
 * test would misread.
 */
function parseYaml(text: string): Yaml {
  const lines = text
    .split('\n')
    .map((raw, index) => ({ raw, number: index + 1 }))
    .filter(({ raw }) => raw.trim() !== '' && !raw.trim().startsWith('#'))
    .map(({ raw, number }) => ({ indent: raw.length - raw.trimStart().length, content: raw.trim(), number }));
  let position = 0;
  const scalar = (value: string, number: number): Yaml => {
    if (value.startsWith('[')) {
      const parsed: unknown = JSON.parse(value);
      if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) throw new Error(`line ${number}: flow lists must hold strings`);
      return parsed;
    }
    if (/^".*"$/.test(value)) return JSON.parse(value) as string;
    if (/["'{}&*!|>]/.test(value.charAt(0))) throw new Error(`line ${number}: unsupported YAML: ${value}`);
    return value;
  };
  const block = (indent: number): Yaml => {
    const first = lines[position];
    if (first === undefined || first.indent !== indent) throw new Error(`line ${first?.number ?? 'EOF'}: expected indentation ${indent}`);
    if (first.content.startsWith('- ')) {
      const list: Yaml[] = [];
      while (lines[position]?.indent === indent && lines[position]!.content.startsWith('- ')) {
        const line = lines[position]!;
        list.push(scalar(line.content.slice(2).trim(), line.number));
        position += 1;
      }
      return list;
    }
    const map: Record<string, Yaml> = {};
    while (lines[position]?.indent === indent) {
      const line = lines[position]!;
      const match = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.content);
      if (match === null) throw new Error(`line ${line.number}: expected "key: value", got ${line.content}`);
      const [, key, value] = match;
      if (key! in map) throw new Error(`line ${line.number}: duplicate key ${key}`);
      position += 1;
      if (value !== undefined && value !== '') map[key!] = scalar(value, line.number);
      else if (lines[position] !== undefined && lines[position]!.indent > indent) map[key!] = block(lines[position]!.indent);
      else map[key!] = '';
    }
    return map;
  };
  const root = block(0);
  if (position !== lines.length) throw new Error(`line ${lines[position]?.number}: unexpected indentation`);
  return root;
}

const asMap = (value: Yaml | undefined): Record<string, Yaml> => {
  if (value === undefined || typeof value === 'string' || Array.isArray(value)) throw new Error(`expected a map, got ${JSON.stringify(value)}`);
  return value;
};

describe('docker-compose.yml', () => {
  const compose = asMap(parseYaml(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')));
  const services = asMap(compose.services);

  it('has postgres 15, redis 7 and the app, with pinned image tags', () => {
    expect(Object.keys(services).sort()).toEqual(['app', 'postgres', 'redis']);
    expect(asMap(services.postgres).image).toMatch(/^postgres:15\.\d+(-[a-z]+)?$/);
    expect(asMap(services.redis).image).toMatch(/^redis:7\.\d+\.\d+(-[a-z]+)?$/);
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20\.\d+\.\d+-[a-z-]+$/m);
    expect(dockerfile).toMatch(/CMD \["npm", "start"\]/);
    // the image carries the dashboard: ui/ is copied and built into ui/dist at build time
    expect(dockerfile).toMatch(/^COPY ui \.\/ui$/m);
    expect(dockerfile).toMatch(/build-ui\.ts --force/);
    const dockerignore = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8').split('\n');
    for (const entry of ['node_modules', '.git', '.troupe', 'ui/dist']) expect(dockerignore, `.dockerignore has ${entry}`).toContain(entry);
    expect(asMap(asMap(services.app).build).dockerfile).toBe('Dockerfile');
  });

  it('gives every service a healthcheck and the app waits for healthy stores', () => {
    for (const [name, service] of Object.entries(services)) {
      const healthcheck = asMap(asMap(service).healthcheck);
      expect(Array.isArray(healthcheck.test), `${name} healthcheck.test`).toBe(true);
      expect(healthcheck.interval, `${name} interval`).toMatch(/^\d+s$/);
      expect(Number(healthcheck.retries), `${name} retries`).toBeGreaterThan(0);
    }
    expect(asMap(services.postgres).healthcheck).toMatchObject({ test: ['CMD-SHELL', expect.stringContaining('pg_isready') as string] });
    expect(asMap(services.redis).healthcheck).toMatchObject({ test: ['CMD', 'redis-cli', 'ping'] });
    expect(asMap(services.app).depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
  });

  it('runs redis with AOF and keeps data in named volumes', () => {
    const command = asMap(services.redis).command as string[];
    expect(command.slice(command.indexOf('--appendonly'), command.indexOf('--appendonly') + 2)).toEqual(['--appendonly', 'yes']);
    expect(Object.keys(asMap(compose.volumes)).sort()).toEqual(['app-data', 'postgres-data', 'redis-data']);
    expect(asMap(services.postgres).volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(asMap(services.redis).volumes).toEqual(['redis-data:/data']);
  });

  it('points the app at both stores', () => {
    const environment = asMap(asMap(services.app).environment);
    expect(new URL(environment.DATABASE_URL as string).host).toBe('postgres:5432');
    expect(new URL(environment.REDIS_URL as string).host).toBe('redis:6379');
  });

  it('the reader refuses YAML it does not understand', () => {
    expect(() => parseYaml('a: &anchor x\n')).toThrow(/unsupported/);
    expect(() => parseYaml('a:\n  b: 1\n c: 2\n')).toThrow(/indentation/);
  });
});
