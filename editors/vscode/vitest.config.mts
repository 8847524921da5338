// Two projects: unit tests with the vscode API replaced by test/vscode.ts (the only module that stands in
// for VS Code), and the integration test against the real Python server.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const vscodeStandIn = fileURLToPath(new URL('./test/vscode.ts', import.meta.url));

export default defineConfig({
  test: {
    projects: [
      {
        resolve: { alias: { vscode: vscodeStandIn } },
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
      },
    ],
  },
});
