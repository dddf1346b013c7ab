import multiprocessing

from scanner_app.cli import main

if __name__ == "__main__":
    # A frozen bundle (PyInstaller) is its own interpreter: the hub's proof workers are
    # spawned as this executable, which must run the worker, not a second app.
    multiprocessing.freeze_support()
    main()
