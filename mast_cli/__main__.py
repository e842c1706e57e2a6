from mast_cli.app import main

main()
