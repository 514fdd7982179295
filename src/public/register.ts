/**
 * `node --import jsftrace/register app.js`: joins the process (or this
 * worker) to the tracing instance before the program runs. The module hooks
 * that give every function a site are installed here as well once they
 * exist; until then the program's own code makes sites with attach() and
 * defineSite().
 */

import '../core/index.js';
