import type { OpenAPIObject } from '@nestjs/swagger';
import { withRawRouteDocs } from './raw-route.docs';

const EMPTY: OpenAPIObject = { openapi: '3.0.0', info: { title: 't', version: '1' }, paths: {} };

describe(withRawRouteDocs.name, () => {
  it('should document a route with its schemas, query parameters, success status and security scheme', () => {
    const document = withRawRouteDocs(EMPTY, [
      {
        method: 'POST',
        path: '/admin/keys',
        summary: 'Create a key.',
        tag: 'admin',
        requestSchema: { type: 'object', required: ['name'] },
        responseSchema: { type: 'object', properties: { key: { type: 'string' } } },
        successStatus: 201,
        security: 'admin-token',
      },
      { method: 'GET', path: '/admin/usage', summary: 'Usage.', tag: 'admin', queryParameters: ['group_by'] },
    ]);
    const create = document.paths['/admin/keys']?.post;
    expect(create?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { type: 'object', required: ['name'] } } },
    });
    expect(Object.keys(create?.responses ?? {})).toEqual(['201']);
    expect(create?.security).toEqual([{ 'admin-token': [] }]);
    expect(document.components?.securitySchemes?.['admin-token']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.paths['/admin/usage']?.get?.parameters).toEqual([
      { name: 'group_by', in: 'query', required: false, schema: { type: 'string' } },
    ]);
  });

  it('should keep a POST without a schema documented as taking any JSON object, and add no security scheme', () => {
    const document = withRawRouteDocs(EMPTY, [{ method: 'POST', path: '/x', summary: 'x', tag: 't' }]);
    expect(document.paths['/x']?.post?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { type: 'object' } } },
    });
    expect(document.components).toBeUndefined();
  });
});
