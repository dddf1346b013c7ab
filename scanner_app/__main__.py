import multiprocessing

if __name__ == "__main__":
    # A frozen bundle (PyInstaller) is its own interpreter: the hub's proof workers (and
    # multiprocessing's resource tracker) are spawned as this executable, which must run the
    # worker, not a second app. Before the CLI's import: a worker needs none of it, and
    # importing it first cost each of them ~2 s to start and ~26 MB
    # (the resource tracker ~42 MB).
    multiprocessing.freeze_support()
    from scanner_app.cli import main

    main()
