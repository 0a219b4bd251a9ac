// NestJS 12 ships as ES modules. Node 20 loads them through require(esm), but Jest's own
// module system cannot until Node 24.9, so Jest compiles them to CommonJS with SWC. SWC
// keeps `import.meta` as is, which CommonJS cannot parse: rewrite the two forms Nest uses.
const { createTransformer } = require('@swc/jest');

module.exports = {
  createTransformer(swcOptions) {
    const swc = createTransformer(swcOptions);
    const rewrite = (source) =>
      source
        .replace(/import\.meta\.url/g, '`file://${__filename}`')
        .replace(/import\.meta\.resolve\(/g, 'require.resolve(');
    return {
      ...swc,
      process: (source, path, options) => swc.process(rewrite(source), path, options),
      processAsync: (source, path, options) => swc.processAsync(rewrite(source), path, options),
      getCacheKey: (source, path, options) => swc.getCacheKey(rewrite(source), path, options) + ':esm-rewrite-1',
    };
  },
};
