// Compiled with `tsc --noEmit` by the test suite: the typed surface a TypeScript app sees.
import {
    KlimaspejlClient,
    KlimaspejlError,
    createPkcePair,
    type Dataset,
    type MyHistory,
    type MySummary,
    type RegisteredClient,
    type RecordsPage,
    type Row,
    type TokenResponse,
} from '@klimaspejl/client';

export async function example(baseUrl: string): Promise<number> {
    const client = new KlimaspejlClient({ baseUrl, maxRetries: 2, lang: 'en' });
    const list = await client.listDatasets();
    const first: string = list.datasets[0].id;
    const ds: Dataset = await client.getDataset(first);
    const fields: string[] = ds.schema.fields.map((f) => f.name);

    const page: RecordsPage = await client.records('energy-district-daily', {
        filters: { district: 'eq:Nørrebro', day: ['gte:2025-01-01', 'lt:2025-02-01'] },
        groupBy: ['district_id'],
        measures: ['sum:electricity_kwh', 'count'],
        order: '-district_id',
        limit: 10,
    });
    const next: string | null = page.next_cursor;
    const csv: string = await client.records('energy-district-daily', { format: 'csv', limit: 5 });

    let n = 0;
    for await (const row of client.recordsAll('emission-factors', { limit: 5 })) {
        const r: Row = row;
        if (r.factor_id !== undefined) n += 1;
    }

    const { codeVerifier, codeChallenge } = await createPkcePair();
    const url: string = client.authorizeUrl({ clientId: 'abcdefgh', redirectUri: 'http://localhost/cb', scope: ['summary:read'], state: 's', codeChallenge });
    try {
        const t: TokenResponse = await client.exchangeCode({ clientId: 'abcdefgh', code: 'x', redirectUri: 'http://localhost/cb', codeVerifier });
        client.setToken(t.access_token);
        const s: MySummary = await client.summary({ month: '2025-03' });
        const kg: number = s.total_co2e_kg;
        n += kg;
    } catch (e) {
        if (e instanceof KlimaspejlError) {
            const p: string | undefined = e.parameter;
            const status: number = e.status;
            n += status + (p ? 1 : 0) + (e.retryAfter ?? 0);
        }
    }
    const body: ReadableStream<Uint8Array> = await client.download('emission-factors', { format: 'ndjson' });
    await body.cancel();
    return n + fields.length + (next ? 1 : 0) + csv.length + url.length;
}

// register() (RFC 7591): a public app asking for the monthly summary; pending until the city approves it
async function registerExample(client: KlimaspejlClient): Promise<string> {
    const app: RegisteredClient = await client.register({
        clientName: 'My climate app',
        redirectUris: ['https://app.example/cb'],
        tokenEndpointAuthMethod: 'none',
        scope: ['summary:read'],
        contacts: ['dev@app.example'],
    });
    const status: 'active' | 'pending' = app.status;
    const h: MyHistory = await client.history({ from: '2025-01', to: '2025-12' });
    return `${app.client_id} ${status} ${h.months.length}`;
}
void registerExample;
