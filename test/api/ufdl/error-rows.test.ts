import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TEST_DATABASES } from '../../helpers/databases.js';
import {
  createJob,
  defineTemplate,
  expect,
  expectDetail,
  registerNode,
  startUfdl,
  UfdlClient,
} from './support.js';

/* Every row of reference §5 (UFDL's errors), provoked through HTTP. */

const START = { send_notification: 'email' };

for (const database of TEST_DATABASES) {
  describe(`UFDL error rows (${database.name})`, () => {
    test('§5 rows', async () => {
      const w = await startUfdl(database);
      try {
        const tpl = await defineTemplate(w);
        const job = await createJob(w, tpl);
        const node = await registerNode(w);
        const other = await registerNode(w, '10.0.0.6', 1);
        const pk = job.pk;

        // 400 json_parse_failure: start without send_notification; finish without success.
        expect(await node.call('GET', `/v1/jobs/${pk}/acquire`), 200, 'acquire');
        expectDetail(
          await node.call('POST', `/v1/jobs/${pk}/start`, {}),
          400,
          /^Unable to parse JSON: 'send_notification' is a required property\n\n\{\}\n\nSchema:\n/,
          'start {}',
        );
        expectDetail(
          await w.user.call('POST', '/v1/jobs/list', {
            expressions: [{ type: 'exact', field: 'pk' }],
          }),
          400,
          /^Unable to parse JSON: /,
          'strict FilterSpec',
        );
        expectDetail(
          await w.user.call('POST', '/v1/jobs/list', { limit: 5 }),
          400,
          /'limit' was unexpected/,
          'no paging fields',
        );

        // 400 bad_node_id, both reasons, on any endpoint.
        expectDetail(
          await w.user.call('POST', '/v1/jobs/list', undefined, { 'node-id': 'abc' }),
          400,
          "Bad Node-Id header 'abc': Unable to parse into an integer primary-key",
        );
        expectDetail(
          await w.user.call('GET', `/v1/jobs/${pk}`, undefined, { 'node-id': '999' }),
          400,
          "Bad Node-Id header '999': No node with this primary-key",
        );

        // 406 node_already_working / illegal_phase_transition / job_acquired.
        expect(await node.call('POST', `/v1/jobs/${pk}/start`, START), 200, 'start');
        const second = await createJob(w, tpl);
        expect(await node.call('GET', `/v1/jobs/${second.pk}/acquire`), 200, 'acquire second');
        expectDetail(
          await node.call('POST', `/v1/jobs/${second.pk}/start`, START),
          406,
          'Attempted to start a job with another already in progress',
        );
        expectDetail(
          await other.call('GET', `/v1/jobs/${pk}/acquire`),
          406,
          `Attempted to acquire job #${pk} that has already been acquired`,
        );
        expectDetail(
          await node.call('DELETE', `/v1/jobs/${pk}/reset`),
          406,
          new RegExp(
            `^Attempted an illegal phase-transition on workable job ${pk} in phase LifecyclePhase.STARTED: reset\n.+\\.$`,
          ),
        );

        // 400 bad_argument_value: progress outside [0, 1]; 404 for a progress the URL refuses.
        expectDetail(await node.call('POST', `/v1/jobs/${pk}/progress/1.5`, {}), 400, /progress/);
        expectDetail(
          await node.call('POST', `/v1/jobs/${pk}/progress/half`, {}),
          404,
          'Not found.',
        );

        // 400 bad_name: no such output; already one of that name/type.
        expectDetail(
          await w.user.call('GET', `/v1/jobs/${pk}/outputs/none/str/info`),
          400,
          `Bad name 'none': Job has no output by this name/type (none/str)`,
        );
        expect(await node.addOutput(pk, 'out', 'str', Buffer.from('1')), 200, 'add');
        expectDetail(
          await node.addOutput(pk, 'out', 'str', Buffer.from('2')),
          400,
          `Bad name 'out': Job already has an output by this name/type (out/str)`,
        );

        // 406 job_finished.
        expect(
          await node.call('POST', `/v1/jobs/${pk}/finish`, {
            success: true,
            send_notification: 'email',
          }),
          200,
          'finish',
        );
        expectDetail(
          await node.addOutput(pk, 'late', 'str', Buffer.from('3')),
          406,
          'Attempted to perform the following action on a finished job: add_output',
        );
        expectDetail(
          await w.admin.call('DELETE', `/v1/jobs/${pk}/abort`),
          406,
          /LifecyclePhase.FINISHED: abort/,
        );

        // 417 job_not_started.
        expectDetail(
          await node.addOutput(second.pk, 'early', 'str', Buffer.from('4')),
          417,
          'Attempted to perform the following action on an un-started job: add_output',
        );

        // create-job: 406 invalid_job_input, 406 unknown parameter, 400 bad value,
        // 406 child_notification_overrides_for_workable_job.
        const create = (body: unknown) =>
          w.user.call('POST', `/v1/job-templates/${tpl}/create-job`, body);
        expectDetail(await create({ input_values: {} }), 406, /Invalid job input 'dataset'/);
        expectDetail(
          await create({
            input_values: { dataset: { value: 1, type: 'int' } },
            parameter_values: { nope: { value: 1, type: 'int' } },
          }),
          406,
          /no parameter 'nope'/,
        );
        expectDetail(
          await create({ input_values: { dataset: { value: 'x', type: 'int' } } }),
          400,
          /dataset/,
        );
        expectDetail(
          await create({
            input_values: { dataset: { value: 1, type: 'int' } },
            child_notification_overrides: {},
          }),
          406,
          /child notification overrides/,
        );
        expectDetail(
          await create({ input_values: { dataset: { value: 1 } } }),
          400,
          /^Unable to parse JSON/,
        );
        expectDetail(await create({ input_values: {}, extra: 1 }), 400, /'extra' was unexpected/);
        // A template whose parameter has no default: 400 missing_parameter.
        const { createJobType } = await import('../../../src/engine/job-types/job-types.js');
        const strict = await createJobType(w.t.engine.ctx, {
          name: 'strict',
          definition: { command: ['x'], parameters: [{ name: 'lr', type: 'number' }] },
        });
        expectDetail(
          await w.user.call('POST', `/v1/job-templates/${strict.id}/create-job`, {
            input_values: {},
          }),
          400,
          "Missing parameter 'lr'",
        );

        // 404: unknown pk, non-numeric pk.
        expectDetail(await w.user.call('GET', '/v1/jobs/999'), 404, 'Not found.');
        expectDetail(await w.user.call('GET', '/v1/jobs/abc'), 404, 'Not found.');

        // 405 for a method the route does not map.
        expectDetail(await w.user.call('GET', '/v1/jobs/list'), 405, 'Method "GET" not allowed.');

        // 401: no credentials (with WWW-Authenticate), and a token that is not valid.
        const anon = await w.anonymous.call('POST', '/v1/jobs/list');
        expectDetail(anon, 401, 'Authentication credentials were not provided.');
        assert.equal(anon.headers.get('www-authenticate'), 'Bearer realm="api"');
        const forged = new UfdlClient(w.t);
        forged.access = 'aaa.bbb.ccc';
        const bad = await forged.call('POST', '/v1/jobs/list');
        expectDetail(bad, 401, 'Given token not valid for any token type');
        assert.equal(bad.body.code, 'token_not_valid');
        // A Node-Id alone is not a credential: the node's account must send its token (issue 11).
        const bare = new UfdlClient(w.t);
        bare.nodeId = other.nodeId;
        const third = await createJob(w, tpl);
        expectDetail(
          await bare.call('GET', `/v1/jobs/${third.pk}/acquire`),
          401,
          'Authentication credentials were not provided.',
          'acquire with Node-Id only',
        );
        // ...but without a Node-Id an anonymous acquire is 401, an authenticated one 403.
        expectDetail(
          await w.anonymous.call('GET', `/v1/jobs/${third.pk}/acquire`),
          401,
          /credentials/,
        );

        // 403: authenticated but denied (a plain user cancels; a node starts a job it does not hold).
        expectDetail(
          await w.user.call('DELETE', `/v1/jobs/${third.pk}/cancel`),
          403,
          'You do not have permission to perform this action.',
        );
        expectDetail(await w.user.call('GET', `/v1/jobs/${third.pk}/acquire`), 403, /permission/);
        expectDetail(
          await node.call('POST', `/v1/jobs/${third.pk}/start`, START),
          403,
          /permission/,
        );
        expectDetail(await w.user.call('POST', '/v1/jobs/create', {}), 403, /permission/);

        // UFDL's 500s (unknown filter field, assertion failures) are 400/406 here.
        expectDetail(
          await w.user.call('POST', '/v1/jobs/list', {
            expressions: [{ type: 'isnull', field: 'nonsense' }],
          }),
          400,
          /Cannot resolve keyword 'nonsense'/,
        );
        expectDetail(
          await node.call('POST', `/v1/jobs/${second.pk}/finish`, {
            success: true,
            send_notification: 'x',
          }),
          406,
          /has not been started/,
        );
      } finally {
        await w.close();
      }
    });
  });
}
