; Inno Setup script sketch: turns dist\Kindly\ (python tasks.py build, on Windows) into
; dist\Kindly-<version>-windows-x64-setup.exe. Compile on Windows with Inno Setup 6:
;   iscc packaging\windows\kindly.iss
; Keep MyAppVersion equal to pyproject.toml's version (tests/packaging/test_spec.py checks it).
; Not yet built in CI: there is no Windows runner. Sign Kindly.exe and the setup before release.

#define MyAppName "Kindly"
#define MyAppVersion "0.1.0"
#define MyAppPublisher "The Kindly contributors"
#define MyAppExeName "Kindly.exe"

[Setup]
; The AppId identifies Kindly to Windows for upgrades and uninstalling: never change it.
AppId={{6C0B8E1A-4B5D-4E0F-9A57-3C2D7F1E8B42}
AppName={#MyAppName}
AppVersion={#MyAppVersion}
AppVerName={#MyAppName} {#MyAppVersion}
AppPublisher={#MyAppPublisher}
; Per-user install by default: no administrator rights needed (the dialog offers all users).
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
DefaultDirName={autopf}\{#MyAppName}
DefaultGroupName={#MyAppName}
DisableProgramGroupPage=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=Kindly-{#MyAppVersion}-windows-x64-setup
SetupIconFile=..\icons\kindly.ico
UninstallDisplayIcon={app}\{#MyAppExeName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder bundle. The user's data (%LOCALAPPDATA%\Kindly) is not touched.
Source: "..\..\dist\Kindly\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#MyAppName}"; Filename: "{app}\{#MyAppExeName}"
Name: "{autodesktop}\{#MyAppName}"; Filename: "{app}\{#MyAppExeName}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#MyAppExeName}"; Description: "{cm:LaunchProgram,{#StringChange(MyAppName, '&', '&&')}}"; Flags: nowait postinstall skipifsilent
