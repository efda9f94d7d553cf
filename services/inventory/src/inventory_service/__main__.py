from .bootstrap import SERVICE

SERVICE.main()
