// The inference worker's entry point (InferencePool starts it): sessions and requests in handler.ts.
import { createHandler, serve } from './handler.js';

serve(createHandler());
