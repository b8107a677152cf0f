// Vite builds the app into dist/ with hashed asset names; reliant serves dist/ at /.
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
});
