// Options of the table that nothing outside src/config acts on, each with its reason.
// test/unit/config-options-consumed.test.ts checks that every other option is read outside
// src/config, and that docs/config.md's row of each option below says what happens to it.

/** Accepted so configurations that set them keep starting; they change nothing. */
export const ACCEPTED_FOR_COMPATIBILITY: Readonly<Record<string, string>> = {
  'die-on-term': "SIGTERM always shuts down gracefully, which is what uWSGI's --die-on-term asks for",
  'enable-threads':
    "uWSGI's switch for Python threads (the GIL); tsgi's --threads are V8 isolates, always allowed, and an app may start its own worker_threads",
  'single-interpreter':
    "uWSGI's switch against Python sub-interpreters; a tsgi process or thread always runs one app in one V8 isolate",
  'py-call-osafterfork':
    "uWSGI's switch that lets Python workers trap signals; tsgi worker processes are not forked from the master and handle their own signals",
  'auto-procname':
    "tsgi always names its processes in ps (tsgi master, tsgi worker N; the --http router is a thread of the master), which is what uWSGI's --auto-procname turns on",
  virtualenv:
    "uWSGI's Python virtualenv (--home, -H); a tsgi app resolves its packages from node_modules next to it (--chdir)",
  pythonpath: "uWSGI's Python module search path; a tsgi app resolves its packages from node_modules",
  'wsgi-disable-file-wrapper':
    "uWSGI's switch off of the Python WSGI file wrapper; tsgi apps stream files themselves (app contract, tsgi.input/iterables)",
  'allow-magic-vars':
    'uwsgi magic vars always reach the app as plain strings and never load code, set env or open files (docs/protocol-uwsgi.md)',
};

/** Acted on while the configuration is read, so nothing later needs them. */
export const READ_BY_CONFIG: Readonly<Record<string, string>> = {
  ini: 'each ini file is read where the option appears (src/config/ini.ts)',
  strict: 'unknown ini keys and TSGI_* names become errors in src/config/validate.ts',
  help: 'loadConfig returns the help text instead of a Config',
  version: 'loadConfig returns the version line instead of a Config',
  reload: 'loadConfig returns the pidfile to signal instead of a Config (src/process/privileges.ts signalPidfile)',
  stop: 'loadConfig returns the pidfile to signal instead of a Config (src/process/privileges.ts signalPidfile)',
};
